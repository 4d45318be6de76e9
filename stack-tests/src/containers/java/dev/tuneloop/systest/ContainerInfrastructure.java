package dev.tuneloop.systest;

import dev.tuneloop.storage.StorageSettings;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka ({@code apache/kafka}, KRaft) and MinIO in Docker containers for the system tests ({@code -Pcontainers}).
 * Not run on the machine this was written on (no Docker engine); compiled by {@code ./mvnw -Pcontainers verify}.
 */
final class ContainerInfrastructure {
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
    static final String MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z";

    private ContainerInfrastructure() {}

    /** Called reflectively by {@link Infrastructure#start}. */
    public static Infrastructure start(String bucket) {
        List<AutoCloseable> parts = new ArrayList<>();
        KafkaContainer kafka = new KafkaContainer(KAFKA_IMAGE);
        kafka.start();
        parts.add(kafka);
        MinIOContainer minio = new MinIOContainer(MINIO_IMAGE);
        try {
            minio.start();
        } catch (RuntimeException e) {
            kafka.stop();
            throw e;
        }
        parts.add(minio);
        StorageSettings storage = new StorageSettings(minio.getS3URL(), minio.getUserName(), minio.getPassword(),
                null, bucket);
        return new Infrastructure(kafka.getBootstrapServers(), storage, parts);
    }
}
