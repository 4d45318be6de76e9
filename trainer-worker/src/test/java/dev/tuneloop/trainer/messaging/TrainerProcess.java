package dev.tuneloop.trainer.messaging;

import ai.djl.Device;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import dev.tuneloop.trainer.Fixtures;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A trainer worker without Quarkus, wired like the service, for tests that need one in its own JVM (to SIGKILL it):
 * {@code TrainerProcess BOOTSTRAP S3_ENDPOINT MODEL_DIR WORK_DIR WORKER_ID}.
 */
public final class TrainerProcess {
    /** Short timeouts so that a killed member leaves the group within seconds. */
    static final Map<String, String> FAST_FAILOVER = Map.of(
            "session.timeout.ms", "6000",
            "heartbeat.interval.ms", "1000",
            "max.poll.interval.ms", "20000");

    private TrainerProcess() {}

    static TrainerMessaging start(String bootstrap, ObjectStore store, Path modelDir, Path workDir, String workerId,
            EventPublisher publisher) {
        CancelRequests cancels = new CancelRequests();
        TrainingJob job = new TrainingJob(new TrainingJob.Settings(workDir, workerId, Fixtures.MODEL_ID,
                Fixtures.MODEL_REVISION, modelDir, Device.cpu(), Duration.ZERO, "test"), store,
                StoragePolicy.of(Fixtures.BUCKET, "datasets/", "runs/"), cancels, publisher::publish);
        return TrainerMessaging.start(new KafkaSettings(bootstrap, workerId, FAST_FAILOVER),
                new TrainerMessaging.Settings("tuneloop-trainers", Duration.ofMillis(100), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofHours(1)), publisher, cancels, job);
    }

    public static void main(String[] args) throws Exception {
        ObjectStore store = new ObjectStore(new StorageSettings(args[1], S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, null, Fixtures.BUCKET));
        EventPublisher publisher = new EventPublisher(new KafkaSettings(args[0], args[4], FAST_FAILOVER), "test",
                Duration.ofSeconds(30));
        start(args[0], store, Path.of(args[2]), Path.of(args[3]), args[4], publisher);
        System.err.println("trainer process " + args[4] + " started");
        Thread.sleep(Long.MAX_VALUE);
    }
}
