package dev.tuneloop.evaluator;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.util.Map;

/** A real Kafka broker, a real S3 server and the tiny model for {@code @QuarkusTest}s of the evaluator. */
public class Backends implements QuarkusTestResourceLifecycleManager {
    private KafkaBroker broker;
    private S3ProxyServer s3;

    @Override
    public Map<String, String> start() {
        try {
            broker = KafkaBroker.start();
            broker.createTopics(Topics.all());
            s3 = S3ProxyServer.startInMemory();
            try (ObjectStore store = new ObjectStore(s3.settings(Fixtures.BUCKET))) {
                store.ensureBucket();
            }
            return Map.of(
                    "kafka.bootstrap.servers", broker.bootstrapServers(),
                    "tuneloop.storage.endpoint", s3.endpoint(),
                    "tuneloop.storage.access-key", S3ProxyServer.ACCESS_KEY,
                    "tuneloop.storage.secret-key", S3ProxyServer.SECRET_KEY,
                    "tuneloop.storage.bucket", Fixtures.BUCKET,
                    "tuneloop.model.location", Fixtures.tinyModel().toString(),
                    "tuneloop.model.id", Fixtures.MODEL_ID,
                    "tuneloop.evaluator.work-dir", Files.createTempDirectory("evaluator-work").toString(),
                    "tuneloop.evaluator.worker-id", "evaluator-app-test");
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("cannot start the test back ends: " + e, e);
        }
    }

    @Override
    public void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (broker != null) {
            broker.close();
        }
    }
}
