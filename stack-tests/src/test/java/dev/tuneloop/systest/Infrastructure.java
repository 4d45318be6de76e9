package dev.tuneloop.systest;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.stack.LocalKafka;
import dev.tuneloop.stack.LocalS3;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StorageSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Kafka broker and the S3 server a system test runs the services against, with every tuneloop topic and the
 * bucket present. By default a KRaft broker in a child JVM ({@link LocalKafka}) and S3Proxy in this JVM
 * ({@link LocalS3}); with {@code -Dtuneloop.it.containers=true} (Maven profile {@code containers}, needs Docker)
 * Testcontainers' Kafka and MinIO ({@code ContainerInfrastructure} in {@code src/containers/java}). The tests only
 * see the bootstrap address and the S3 endpoint and keys, so both paths run the same test code.
 *
 * @param kafka {@code host:port} of the broker
 * @param storage endpoint, keys and bucket of the object store
 * @param parts what to stop, in reverse order
 */
record Infrastructure(String kafka, StorageSettings storage, List<AutoCloseable> parts) implements AutoCloseable {
    static final String CONTAINERS_PROPERTY = "tuneloop.it.containers";
    static final String BUCKET = "tuneloop";

    static Infrastructure start(Path dir, Path agentJar) throws Exception {
        Infrastructure infra = Boolean.getBoolean(CONTAINERS_PROPERTY) ? containers() : local(dir, agentJar);
        try {
            LocalKafka.ensureTopics(infra.kafka(), Topics.all());
            try (ObjectStore store = new ObjectStore(infra.storage())) {
                store.ensureBucket();
            }
            return infra;
        } catch (IOException | RuntimeException e) {
            infra.close();
            throw e;
        }
    }

    private static Infrastructure local(Path dir, Path agentJar) throws IOException {
        List<AutoCloseable> parts = new ArrayList<>();
        LocalKafka kafka = LocalKafka.start(dir.resolve("kafka"), 0, agentJar, System.getProperty("java.class.path"),
                dir.resolve("logs").resolve("kafka.log"));
        parts.add(kafka);
        try {
            LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, BUCKET);
            parts.add(s3);
            return new Infrastructure(kafka.bootstrapServers(), s3.settings(), parts);
        } catch (IOException | RuntimeException e) {
            kafka.close();
            throw e;
        }
    }

    /** Testcontainers' Kafka and MinIO; the class is only compiled under {@code -Pcontainers}. */
    private static Infrastructure containers() throws Exception {
        Class<?> factory;
        try {
            factory = Class.forName("dev.tuneloop.systest.ContainerInfrastructure");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("-D" + CONTAINERS_PROPERTY + "=true needs the Maven profile containers"
                    + " (./mvnw -Pcontainers verify), which compiles src/containers/java with Testcontainers", e);
        }
        return (Infrastructure) factory.getMethod("start", String.class).invoke(null, BUCKET);
    }

    @Override
    public void close() {
        for (int i = parts.size() - 1; i >= 0; i--) {
            try {
                parts.get(i).close();
            } catch (Exception e) {
                System.err.println("system test: stopping " + parts.get(i) + " failed: " + e);
            }
        }
    }
}
