package dev.tuneloop.inference;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StorageSettings;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real Kafka broker (every tuneloop topic) and a real S3 server in the test JVM, and the tiny test model as the base
 * model; the service under test is configured to use all three with small limits.
 */
public class BrokerStoreAndModel implements QuarkusTestResourceLifecycleManager {
    public static final String BUCKET = "tuneloop";
    public static final String SERVED = "qwen-squad";
    public static final String BASE = "tiny-base";
    public static final long MAX_BODY_BYTES = 65536;
    private static volatile KafkaBroker kafka;
    private static volatile S3ProxyServer s3;

    @Override
    public Map<String, String> start() {
        kafka = KafkaBroker.start();
        kafka.createTopics(Topics.all());
        s3 = S3ProxyServer.startInMemory();
        try (ObjectStore store = store()) {
            store.ensureBucket();
            before(store);
        } catch (Exception e) {
            throw new IllegalStateException("cannot prepare S3 and Kafka for the test: " + e, e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        config.put("tuneloop.model.location", TestModels.get().modelDir().toString());
        config.put("tuneloop.inference.base-model-name", BASE);
        config.put("tuneloop.inference.served-model", SERVED);
        config.put("tuneloop.storage.endpoint", s3.endpoint());
        config.put("tuneloop.storage.access-key", S3ProxyServer.ACCESS_KEY);
        config.put("tuneloop.storage.secret-key", S3ProxyServer.SECRET_KEY);
        config.put("tuneloop.storage.bucket", BUCKET);
        try {
            config.put("tuneloop.inference.work-dir", Files.createTempDirectory("tuneloop-inference-work").toString());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        config.put("tuneloop.inference.batching.max-wait", "5ms");
        config.put("tuneloop.inference.limits.max-body-bytes", String.valueOf(MAX_BODY_BYTES));
        config.put("tuneloop.inference.limits.max-prompt-tokens", "1024");
        config.put("tuneloop.inference.limits.max-tokens", "32");
        config.put("tuneloop.inference.limits.default-max-tokens", "16");
        config.put("tuneloop.inference.limits.answer-max-tokens", "12");
        config.putAll(overrides());
        return config;
    }

    /** Runs before the service starts (a subclass publishes promotions that must be read at start-up). */
    protected void before(ObjectStore store) throws Exception {}

    /** Settings a subclass changes. */
    protected Map<String, String> overrides() {
        return Map.of();
    }

    @Override
    public void stop() {
        try {
            if (s3 != null) {
                s3.close();
            }
        } finally {
            if (kafka != null) {
                kafka.stop();
            }
        }
    }

    /** A client of the test S3 server; the caller closes it. */
    public static ObjectStore store() {
        return new ObjectStore(new StorageSettings(s3.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY,
                null, BUCKET));
    }

    /** Publishes {@code promotion} of {@code runId} as the orchestrator would (key: the served model). */
    public static void publish(String runId, AdapterPromoted promotion) throws Exception {
        EventEnvelope<AdapterPromoted> event = EventEnvelope.create(runId, Lineage.unknown("test"), promotion,
                Instant.now());
        publishRaw(event.key(), EventCodec.toBytes(event));
    }

    /** Publishes any event on its topic under its key. */
    public static void publish(EventEnvelope<?> event) throws Exception {
        publishRaw(event.topic(), event.key(), EventCodec.toBytes(event));
    }

    /** Publishes any bytes on the promotions topic. */
    public static void publishRaw(String key, byte[] value) throws Exception {
        publishRaw(Topics.ADAPTER_PROMOTED, key, value);
    }

    /** Publishes any bytes on {@code topic}. */
    public static void publishRaw(String topic, String key, byte[] value) throws Exception {
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        }
    }
}
