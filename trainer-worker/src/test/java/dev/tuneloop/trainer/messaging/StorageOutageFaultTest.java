package dev.tuneloop.trainer.messaging;

import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.EVAL_URI;
import static dev.tuneloop.trainer.Fixtures.TRAIN_URI;
import static dev.tuneloop.trainer.Fixtures.request;
import static dev.tuneloop.trainer.Fixtures.tinyRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.storage.CuttableProxy;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.Sha256;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import dev.tuneloop.trainer.Fixtures;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: the object store becomes unreachable for {@code tuneloop.fault.s3-outage} (default 30 s) in the middle of a
 * checkpoint upload. A real TCP cut between the trainer and a real S3 server: the connection carrying the PUT of
 * {@code epoch-0001/adapter_model.safetensors} is closed after its first bytes and the port refuses connections for
 * the outage. The trainer's storage client (the worker's default retry policy) retries with backoff in place: the run
 * completes without a job retry, each checkpoint is published once with a sha256 that matches the stored object, and
 * the outage shows in the store's counters (the worker's {@code tuneloop_trainer_storage_retries_total}).
 */
class StorageOutageFaultTest {
    private static final String GROUP = "tuneloop-trainers-s3-outage";
    /** The trainer's defaults: tuneloop.storage.retry-attempts, -initial-backoff, -max-backoff. */
    private static final RetryPolicy TRAINER_DEFAULT = new RetryPolicy(10, Duration.ofMillis(500),
            Duration.ofSeconds(10));

    @Test
    void aCheckpointUploadRidesOutAStorageOutageAndLandsOnce(@TempDir Path work) throws Exception {
        Duration outage = Duration.parse("PT" + System.getProperty("tuneloop.fault.s3-outage", "30s").toUpperCase());
        String run = "run-s3-outage";
        try (KafkaBroker broker = KafkaBroker.start();
                S3ProxyServer s3 = S3ProxyServer.startInMemory();
                CuttableProxy cable = CuttableProxy.to(s3.port());
                ObjectStore direct = new ObjectStore(s3.settings(BUCKET));
                ObjectStore store = new ObjectStore(new StorageSettings(cable.endpoint(), S3ProxyServer.ACCESS_KEY,
                        S3ProxyServer.SECRET_KEY, null, BUCKET), TRAINER_DEFAULT)) {
            broker.createTopics(Topics.all());
            direct.ensureBucket();
            direct.putBytes(ObjectUri.parse(TRAIN_URI), Fixtures.squadLines(0, 12));
            direct.putBytes(ObjectUri.parse(EVAL_URI), Fixtures.squadLines(100, 6));
            cable.cutWhenSent("PUT /" + BUCKET + "/runs/" + run + "/checkpoints/epoch-0001/adapter_model.safetensors",
                    outage);

            KafkaSettings settings = new KafkaSettings(broker.bootstrapServers(), "trainer-s3", Map.of());
            try (TestKafka kafka = new TestKafka(broker.bootstrapServers());
                    EventPublisher publisher = new EventPublisher(settings, "test", Duration.ofSeconds(30))) {
                CancelRequests cancels = new CancelRequests();
                TrainingJob job = new TrainingJob(new TrainingJob.Settings(work, "trainer-s3", Fixtures.MODEL_ID,
                        Fixtures.MODEL_REVISION, Fixtures.tinyModel(), Device.cpu(), Duration.ZERO, "test"), store,
                        StoragePolicy.of(BUCKET, "datasets/", "runs/"), cancels, publisher::publish);
                long started = System.nanoTime();
                try (TrainerMessaging messaging = TrainerMessaging.start(settings, new TrainerMessaging.Settings(GROUP,
                        Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(1)),
                        publisher, cancels, job)) {
                    kafka.send(request(run, tinyRun(), TRAIN_URI, null));
                    waitUntil(outage.plusSeconds(150), "RunCompleted",
                            () -> !payloads(kafka, Topics.RUN_EVENTS, run, RunCompleted.class).isEmpty(),
                            messaging::status);
                    waitUntil(Duration.ofSeconds(20), "no lag: the request's offset committed",
                            () -> messaging.status().lag() == 0, messaging::status);
                    System.out.printf("s3 outage of %d s: run completed in %.1f s, %s, %s%n", outage.toSeconds(),
                            (System.nanoTime() - started) / 1e9, store.stats(), messaging.status());
                    assertEquals(0, messaging.status().jobsRetried(),
                            "the upload retried in place; the job was not restarted: " + messaging.status());
                }
            }

            Instant cutAt = cable.cutAt();
            assertNotNull(cutAt, "the upload of epoch-0001's weights never went through the cut");
            assertNotNull(cable.restoredAt());
            assertTrue(Duration.between(cutAt, cable.restoredAt()).compareTo(outage) >= 0);
            ObjectStore.Stats stats = store.stats();
            assertTrue(stats.retries() >= 3, "retries with backoff during the outage: " + stats);
            assertEquals(0, stats.failedCalls(), "no call gave up: " + stats);
            assertTrue(stats.lastTransientFailure().contains("checkpoints/epoch-0001/adapter_model.safetensors"),
                    stats.lastTransientFailure());
            assertTrue(!stats.lastTransientFailureAt().isBefore(cutAt), stats.toString());

            try (TestKafka kafka = new TestKafka(broker.bootstrapServers())) {
                assertEquals(List.of(new TrainingStarted("trainer-s3", 1, 0)),
                        payloads(kafka, Topics.RUN_EVENTS, run, TrainingStarted.class), "one attempt");
                List<CheckpointSaved> saved = payloads(kafka, Topics.CHECKPOINT_SAVED, run, CheckpointSaved.class);
                assertEquals(List.of("epoch-0001", "epoch-0002"),
                        saved.stream().map(CheckpointSaved::checkpoint).toList(), "each checkpoint once");
                for (CheckpointSaved checkpoint : saved) {
                    for (StoredObject o : checkpoint.files().values()) {
                        try (InputStream in = direct.open(ObjectUri.parse(o.uri()))) {
                            assertEquals(o.sha256(), Sha256.of(in), o.uri());
                        }
                    }
                }
                assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))),
                        payloads(kafka, Topics.RUN_EVENTS, run, RunCompleted.class));
            }
        }
    }

    private static <P extends EventPayload> List<P> payloads(TestKafka kafka, String topic, String runId,
            Class<P> type) {
        return kafka.events(topic, type).stream().filter(e -> e.header().runId().equals(runId))
                .map(EventEnvelope::payload).toList();
    }
}
