package dev.tuneloop.trainer.messaging;

import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.EVAL_URI;
import static dev.tuneloop.trainer.Fixtures.TRAIN_URI;
import static dev.tuneloop.trainer.Fixtures.request;
import static dev.tuneloop.trainer.Fixtures.tinyRun;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.trainer.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trainer JVM SIGKILLed mid-run; another trainer of the group takes the request over and resumes it. */
class TrainerFailoverTest {
    @TempDir
    Path tmp;

    private static <P extends EventPayload> List<P> payloads(TestKafka kafka, String topic, Class<P> type) {
        return kafka.events(topic, type).stream().map(EventEnvelope::payload).toList();
    }

    private static String log(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aKilledTrainersRunIsResumedByAnotherFromItsLastResumeState() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(); S3ProxyServer s3 = S3ProxyServer.startInMemory();
                ObjectStore store = new ObjectStore(s3.settings(BUCKET));
                TestKafka kafka = new TestKafka(broker.bootstrapServers())) {
            broker.createTopics(Topics.all());
            store.ensureBucket();
            store.putBytes(ObjectUri.parse(TRAIN_URI), Fixtures.squadLines(0, 12));
            store.putBytes(ObjectUri.parse(EVAL_URI), Fixtures.squadLines(100, 6));
            Path model = Fixtures.tinyModel();

            // The doomed trainer stops before step 5, after publishing epoch-0001 (step 3) and doing step 4.
            Path childLog = tmp.resolve("doomed.log");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                    TrainerProcess.class.getName(), broker.bootstrapServers(), s3.endpoint(), model.toString(),
                    tmp.resolve("doomed").toString(), "trainer-doomed");
            pb.environment().put("TUNELOOP_PAUSE_AT", "5:0");
            pb.redirectErrorStream(true).redirectOutput(childLog.toFile());
            Process doomed = pb.start();
            try {
                kafka.send(request("run-failover", tinyRun(), TRAIN_URI, null));
                waitUntil(Duration.ofSeconds(90), "the doomed trainer to pause before step 5",
                        () -> log(childLog).contains("paused before micro-step 0 of step 5"), () -> log(childLog));
                assertEquals(List.of("epoch-0001"), payloads(kafka, Topics.CHECKPOINT_SAVED, CheckpointSaved.class)
                        .stream().map(CheckpointSaved::checkpoint).toList(), log(childLog));
            } finally {
                doomed.destroyForcibly(); // SIGKILL: no hand-off, no leaving the group
                doomed.waitFor();
            }

            try (EventPublisher publisher = new EventPublisher(new KafkaSettings(broker.bootstrapServers(),
                    "trainer-survivor", TrainerProcess.FAST_FAILOVER), "test", Duration.ofSeconds(30));
                    TrainerMessaging survivor = TrainerProcess.start(broker.bootstrapServers(), store, model,
                            tmp.resolve("survivor"), "trainer-survivor", publisher)) {
                waitUntil(Duration.ofSeconds(90), "RunCompleted",
                        () -> !payloads(kafka, Topics.RUN_EVENTS, RunCompleted.class).isEmpty(), survivor::status);
                assertEquals(List.of(new TrainingStarted("trainer-doomed", 1, 0),
                        new TrainingStarted("trainer-survivor", 2, 3)),
                        payloads(kafka, Topics.RUN_EVENTS, TrainingStarted.class));
                assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))),
                        payloads(kafka, Topics.RUN_EVENTS, RunCompleted.class));
                assertEquals(List.of("epoch-0001", "epoch-0001", "epoch-0002"),
                        payloads(kafka, Topics.CHECKPOINT_SAVED, CheckpointSaved.class).stream()
                                .map(CheckpointSaved::checkpoint).toList());
                waitUntil(Duration.ofSeconds(10), "the request's offset committed",
                        () -> kafka.committed("tuneloop-trainers", Topics.TRAINING_REQUESTED) == 1, survivor::status);
            }
        }
    }
}
