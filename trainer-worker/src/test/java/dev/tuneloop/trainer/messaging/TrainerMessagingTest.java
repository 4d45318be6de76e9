package dev.tuneloop.trainer.messaging;

import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.EVAL_URI;
import static dev.tuneloop.trainer.Fixtures.TRAIN_URI;
import static dev.tuneloop.trainer.Fixtures.request;
import static dev.tuneloop.trainer.Fixtures.tinyRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.Sha256;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.trainer.Fixtures;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's Kafka side on a real broker and a real S3 server, training the tiny model. */
class TrainerMessagingTest {
    private static final String GROUP = "tuneloop-trainers";
    private static KafkaBroker broker;
    private static TestKafka kafka;
    private static S3ProxyServer s3;
    private static ObjectStore store;
    private static EventPublisher publisher;
    private static TrainerMessaging messaging;

    @BeforeAll
    static void start(@TempDir Path work) throws Exception {
        broker = KafkaBroker.start();
        broker.createTopics(Topics.all());
        kafka = new TestKafka(broker.bootstrapServers());
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        store.putBytes(ObjectUri.parse(TRAIN_URI), Fixtures.squadLines(0, 12));
        store.putBytes(ObjectUri.parse(EVAL_URI), Fixtures.squadLines(100, 6));

        KafkaSettings settings = new KafkaSettings(broker.bootstrapServers(), "trainer-1", Map.of());
        publisher = new EventPublisher(settings, "test", Duration.ofSeconds(30));
        CancelRequests cancels = new CancelRequests();
        TrainingJob job = new TrainingJob(new TrainingJob.Settings(work, "trainer-1", Fixtures.MODEL_ID,
                Fixtures.MODEL_REVISION, Fixtures.tinyModel(), Device.cpu(), Duration.ZERO, "test"), store,
                StoragePolicy.of(BUCKET, "datasets/", "runs/"), cancels, publisher::publish);
        messaging = TrainerMessaging.start(settings, new TrainerMessaging.Settings(GROUP, Duration.ofMillis(100),
                Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(1)), publisher, cancels, job);
    }

    @AfterAll
    static void stop() {
        messaging.close();
        publisher.close();
        store.close();
        s3.close();
        kafka.close();
        broker.close();
    }

    private static <P extends EventPayload> List<P> payloads(String topic, String runId,
            Class<P> type) {
        return kafka.events(topic, type).stream().filter(e -> e.header().runId().equals(runId))
                .map(EventEnvelope::payload).toList();
    }

    @Test
    void aRequestOnTheTopicIsTrainedAndItsEventsLandOnTheirTopics() throws Exception {
        String run = "run-over-kafka";
        long before = kafka.committed(GROUP, Topics.TRAINING_REQUESTED);
        kafka.send(request(run, tinyRun(), TRAIN_URI, null));
        waitUntil(Duration.ofSeconds(90), "RunCompleted",
                () -> !payloads(Topics.RUN_EVENTS, run, RunCompleted.class).isEmpty(), messaging::status);

        assertEquals(List.of(new TrainingStarted("trainer-1", 1, 0)),
                payloads(Topics.RUN_EVENTS, run, TrainingStarted.class));
        assertEquals(6, payloads(Topics.RUN_EVENTS, run, TrainingProgressed.class).size());
        List<CheckpointSaved> saved = payloads(Topics.CHECKPOINT_SAVED, run, CheckpointSaved.class);
        assertEquals(List.of("epoch-0001", "epoch-0002"), saved.stream().map(CheckpointSaved::checkpoint).toList());
        for (StoredObject o : saved.get(1).files().values()) {
            try (InputStream in = store.open(ObjectUri.parse(o.uri()))) {
                assertEquals(o.sha256(), Sha256.of(in), o.uri());
            }
        }
        assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))),
                payloads(Topics.RUN_EVENTS, run, RunCompleted.class));
        waitUntil(Duration.ofSeconds(10), "the request's offset committed",
                () -> kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == before + 1, messaging::status);
        assertEquals(1, messaging.status().rebalances(), "the worker stayed in its group: " + messaging.status());
    }

    @Test
    void aRequestWithAnInitAdapterTrainsOnFromThatAdaptersWeights() throws Exception {
        // as the orchestrator's fromPromoted trigger sends it: a checkpoint folder of an earlier run
        String prefix = "s3://tuneloop/runs/promoted-run/checkpoints/epoch-0003/";
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            store.put(ObjectUri.parse(prefix + f), Fixtures.goldenAdapter().resolve(f));
        }
        String run = "run-from-adapter";
        kafka.send(request(run, tinyRun(), TRAIN_URI, null, prefix));
        waitUntil(Duration.ofSeconds(90), "RunCompleted",
                () -> !payloads(Topics.RUN_EVENTS, run, RunCompleted.class).isEmpty(), messaging::status);

        CheckpointSaved first = payloads(Topics.CHECKPOINT_SAVED, run, CheckpointSaved.class).get(0);
        assertEquals("epoch-0001", first.checkpoint());
        // the adapter's config decides the LoRA settings: the request asked for q_proj and v_proj, dropout 0
        assertEquals(7, first.adapterConfig().path("target_modules").size(), first.adapterConfig().toString());
        assertEquals(0.05, first.adapterConfig().path("lora_dropout").asDouble());
        Path got = Files.createTempFile("first-checkpoint", ".safetensors");
        store.get(ObjectUri.parse(first.files().get("adapter_model.safetensors").uri()), got,
                first.files().get("adapter_model.safetensors").sha256());
        double maxDiff = 0;
        double diffSq = 0;
        double initSq = 0;
        try (SafetensorsFile init = SafetensorsFile.open(Fixtures.goldenAdapter().resolve("adapter_model.safetensors"));
                SafetensorsFile trained = SafetensorsFile.open(got)) {
            assertEquals(init.tensors().keySet(), trained.tensors().keySet());
            for (String name : init.tensors().keySet()) {
                float[] a = init.floats(name);
                float[] b = trained.floats(name);
                for (int i = 0; i < a.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                    diffSq += (double) (a[i] - b[i]) * (a[i] - b[i]);
                    initSq += (double) a[i] * a[i];
                }
            }
        } finally {
            Files.delete(got);
        }
        double relative = Math.sqrt(diffSq / initSq);
        System.out.printf("first checkpoint vs init adapter: max |diff| %.3g, relative L2 distance %.3g%n", maxDiff,
                relative);
        assertTrue(maxDiff > 1e-4, "3 steps at lr 5e-3 trained the adapter: max |diff| " + maxDiff);
        assertTrue(relative < 0.25, "and it derives from the init adapter (a fresh LoRA has B = 0): relative L2"
                + " distance " + relative);
        assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))),
                payloads(Topics.RUN_EVENTS, run, RunCompleted.class));
    }

    @Test
    void aRequestWhoseInitAdapterFolderIsEmptyFailsInTheInitAdapterStage() {
        String run = "run-from-nothing";
        String empty = "s3://tuneloop/runs/never-trained/checkpoints/epoch-0001/";
        kafka.send(request(run, tinyRun(), TRAIN_URI, null, empty));
        waitUntil(Duration.ofSeconds(60), "RunFailed",
                () -> !payloads(Topics.RUN_EVENTS, run, RunFailed.class).isEmpty(), messaging::status);
        RunFailed failed = payloads(Topics.RUN_EVENTS, run, RunFailed.class).get(0);
        assertEquals("init-adapter", failed.stage());
        assertTrue(failed.reason().contains("initAdapter " + empty + " holds no adapter_config.json"),
                failed.reason());
        assertEquals(List.of(), payloads(Topics.RUN_EVENTS, run, TrainingStarted.class), "nothing was trained");
    }

    @Test
    void aCancelRequestOnTheRunEventsTopicStopsTheRunningJob() {
        String run = "run-to-cancel";
        HyperParameters long100Epochs = new HyperParameters(100, 5e-3, 0.0, 0.0, 1.0, 4, 1, 4, 8, 0.0,
                List.of("q_proj"), 160, 0, 0, 4, "context", 7);
        long before = kafka.committed(GROUP, Topics.TRAINING_REQUESTED);
        kafka.send(request(run, long100Epochs, TRAIN_URI, null));
        waitUntil(Duration.ofSeconds(60), "the run to make progress",
                () -> !payloads(Topics.RUN_EVENTS, run, TrainingProgressed.class).isEmpty(), messaging::status);
        kafka.send(EventEnvelope.create(run, Lineage.unknown("cli"), new CancelRequested("alice", "wrong data"),
                Instant.now()));
        waitUntil(Duration.ofSeconds(60), "RunCancelled",
                () -> !payloads(Topics.RUN_EVENTS, run, RunCancelled.class).isEmpty(), messaging::status);

        RunCancelled cancelled = payloads(Topics.RUN_EVENTS, run, RunCancelled.class).get(0);
        assertEquals("wrong data", cancelled.reason());
        assertTrue(cancelled.lastStep() >= 1 && cancelled.lastStep() < 300, cancelled.toString());
        assertEquals(List.of(), payloads(Topics.RUN_EVENTS, run, RunCompleted.class));
        waitUntil(Duration.ofSeconds(10), "the request's offset committed",
                () -> kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == before + 1, messaging::status);
    }
}
