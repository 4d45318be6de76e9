package dev.tuneloop.trainer.messaging;

import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.EVAL_URI;
import static dev.tuneloop.trainer.Fixtures.TRAIN_URI;
import static dev.tuneloop.trainer.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.Sha256;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.trainer.Fixtures;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: the Kafka broker stops while a trainer is mid-training and comes back {@code tuneloop.fault.broker-outage}
 * later (default 15 s) on the same port with the same log directory. The run completes, every checkpoint is published
 * exactly once, the worker's consumer catches up (lag 0, request committed), and the outage is counted in the
 * publisher's failures ({@code tuneloop_trainer_publish_failures_total}), not only logged.
 */
class BrokerRestartFaultTest {
    private static final String GROUP = "tuneloop-trainers-broker-restart";
    /** Four epochs of three steps (12 examples, batch 4), a checkpoint per epoch. */
    private static final HyperParameters FOUR_EPOCHS = new HyperParameters(4, 5e-3, 0.0, 0.0, 1.0, 4, 1, 4, 8, 0.0,
            List.of("q_proj", "v_proj"), 160, 1, 0, 4, "context", 7);

    @Test
    void aTrainerMidTrainingFinishesItsRunWhenTheBrokerComesBack(@TempDir Path work) throws Exception {
        Duration outage = Duration.parse("PT" + System.getProperty("tuneloop.fault.broker-outage", "15s")
                .toUpperCase());
        String run = "run-broker-restart";
        try (KafkaBroker broker = KafkaBroker.start();
                S3ProxyServer s3 = S3ProxyServer.startInMemory();
                ObjectStore store = new ObjectStore(s3.settings(BUCKET))) {
            broker.createTopics(Topics.all());
            store.ensureBucket();
            store.putBytes(ObjectUri.parse(TRAIN_URI), Fixtures.squadLines(0, 12));
            store.putBytes(ObjectUri.parse(EVAL_URI), Fixtures.squadLines(100, 6));

            KafkaSettings settings = new KafkaSettings(broker.bootstrapServers(), "trainer-kr", Map.of());
            try (EventPublisher publisher = new EventPublisher(settings, "test", Duration.ofSeconds(5))) {
                CancelRequests cancels = new CancelRequests();
                TrainingJob job = new TrainingJob(new TrainingJob.Settings(work, "trainer-kr", Fixtures.MODEL_ID,
                        Fixtures.MODEL_REVISION, Fixtures.tinyModel(), Device.cpu(), Duration.ZERO, "test"), store,
                        StoragePolicy.of(BUCKET, "datasets/", "runs/"), cancels, publisher::publish);
                long started = System.nanoTime();
                try (TrainerMessaging messaging = TrainerMessaging.start(settings, new TrainerMessaging.Settings(GROUP,
                        Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(1)),
                        publisher, cancels, job)) {
                    try (TestKafka kafka = new TestKafka(broker.bootstrapServers())) {
                        kafka.send(request(run, FOUR_EPOCHS, TRAIN_URI, null));
                        waitUntil(Duration.ofSeconds(120), "the run to make progress",
                                () -> !payloads(kafka, Topics.RUN_EVENTS, run, TrainingProgressed.class).isEmpty(),
                                messaging::status);
                    }
                    broker.stopBroker();
                    Thread.sleep(outage.toMillis());
                    long failuresDuringOutage = publisher.failures();
                    broker.restartBroker();
                    try (TestKafka kafka = new TestKafka(broker.bootstrapServers())) {
                        waitUntil(Duration.ofSeconds(180), "RunCompleted",
                                () -> !payloads(kafka, Topics.RUN_EVENTS, run, RunCompleted.class).isEmpty(),
                                messaging::status);
                        waitUntil(Duration.ofSeconds(60), "no lag: the request's offset committed",
                                () -> messaging.status().lag() == 0
                                        && kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == 1,
                                messaging::status);
                        System.out.printf("broker outage of %d s: run completed in %.1f s; publish failures %d (%d "
                                + "during the outage), last: %s; %s%n", outage.toSeconds(),
                                (System.nanoTime() - started) / 1e9, publisher.failures(), failuresDuringOutage,
                                publisher.lastFailure().orElse("none"), messaging.status());
                        assertTrue(failuresDuringOutage >= 1, "the outage is counted: " + failuresDuringOutage);

                        List<CheckpointSaved> saved = payloads(kafka, Topics.CHECKPOINT_SAVED, run,
                                CheckpointSaved.class);
                        assertEquals(List.of("epoch-0001", "epoch-0002", "epoch-0003", "epoch-0004"),
                                saved.stream().map(CheckpointSaved::checkpoint).toList(),
                                "each checkpoint published once, none lost");
                        for (CheckpointSaved checkpoint : saved) {
                            for (StoredObject o : checkpoint.files().values()) {
                                try (InputStream in = store.open(ObjectUri.parse(o.uri()))) {
                                    assertEquals(o.sha256(), Sha256.of(in), o.uri());
                                }
                            }
                        }
                        List<RunCompleted> completed = payloads(kafka, Topics.RUN_EVENTS, run, RunCompleted.class);
                        assertEquals(List.of(new RunCompleted(12,
                                List.of("epoch-0001", "epoch-0002", "epoch-0003", "epoch-0004"))), completed);
                    }
                }
            }
        }
    }

    private static <P extends EventPayload> List<P> payloads(TestKafka kafka, String topic, String runId,
            Class<P> type) {
        return kafka.events(topic, type).stream().filter(e -> e.header().runId().equals(runId))
                .map(EventEnvelope::payload).toList();
    }
}
