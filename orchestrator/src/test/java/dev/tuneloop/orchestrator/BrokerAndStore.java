package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StorageSettings;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * A real Kafka broker (with every tuneloop topic) and a real S3 server in the test JVM for {@code @QuarkusTest}s;
 * the orchestrator under test is configured to use both.
 */
public class BrokerAndStore implements QuarkusTestResourceLifecycleManager {
    public static final String BUCKET = "tuneloop";
    private static volatile KafkaBroker kafka;
    private static volatile S3ProxyServer s3;
    private static volatile String s3Endpoint;

    @Override
    public Map<String, String> start() {
        kafka = KafkaBroker.start();
        kafka.createTopics(Topics.all());
        s3 = S3ProxyServer.startInMemory();
        s3Endpoint = s3.endpoint();
        try (ObjectStore store = store()) {
            store.ensureBucket();
        } catch (Exception e) {
            throw new IllegalStateException("cannot create bucket " + BUCKET + " on " + s3Endpoint, e);
        }
        return Map.of(
                "tuneloop.orchestrator.triggers.\"tuneloop/datasets/squad/\".model-id", "Qwen/Qwen2.5-0.5B-Instruct",
                "tuneloop.orchestrator.triggers.\"tuneloop/datasets/squad/\".eval-data-uri",
                "s3://tuneloop/eval/dev-12.jsonl",
                "tuneloop.orchestrator.triggers.\"tuneloop/datasets/squad/\".hyper-parameters.epochs", "1",
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "tuneloop.storage.endpoint", s3Endpoint,
                "tuneloop.storage.access-key", S3ProxyServer.ACCESS_KEY,
                "tuneloop.storage.secret-key", S3ProxyServer.SECRET_KEY,
                "tuneloop.storage.bucket", BUCKET);
    }

    @Override
    public void stop() {
        try {
            if (s3 != null) {
                s3.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy at " + s3Endpoint, e);
        } finally {
            if (kafka != null) {
                kafka.stop();
            }
        }
    }

    /** The running broker, for tests that stop and restart it. */
    public static KafkaBroker broker() {
        return kafka;
    }

    public static String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** A client of the test S3 server; the caller closes it. */
    public static ObjectStore store() {
        return new ObjectStore(new StorageSettings(s3Endpoint, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY,
                null, BUCKET));
    }
}
