package dev.tuneloop.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TLS/SASL settings every service's Kafka clients get, from the environment a Deployment sets. */
class KafkaClientConfigTest {
    private static KafkaClientConfig fromEnvironment(Map<String, String> env) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(KafkaClientConfig.class)
                .withSources(new EnvConfigSource(env, 300))
                .build();
        return config.getConfigMapping(KafkaClientConfig.class);
    }

    @Test
    void nothingSetMeansPlaintextAndNoExtraProperties() {
        assertEquals(Map.of(), KafkaClientConfig.clientProperties(fromEnvironment(Map.of())));
    }

    @Test
    void everyVariableBecomesItsKafkaClientProperty() {
        Map<String, String> env = Map.of(
                "TUNELOOP_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "TUNELOOP_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "TUNELOOP_KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"tuneloop\" password=\"p\";",
                "TUNELOOP_KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/tuneloop/kafka-tls/ca.p12",
                "TUNELOOP_KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12",
                "TUNELOOP_KAFKA_SSL_TRUSTSTORE_PASSWORD", "tp",
                "TUNELOOP_KAFKA_SSL_KEYSTORE_LOCATION", "/etc/tuneloop/kafka-tls/user.p12",
                "TUNELOOP_KAFKA_SSL_KEYSTORE_TYPE", "PKCS12",
                "TUNELOOP_KAFKA_SSL_KEYSTORE_PASSWORD", "kp",
                "TUNELOOP_KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https");
        Map<String, String> expected = Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", env.get("TUNELOOP_KAFKA_SASL_JAAS_CONFIG"),
                "ssl.truststore.location", "/etc/tuneloop/kafka-tls/ca.p12",
                "ssl.truststore.type", "PKCS12",
                "ssl.truststore.password", "tp",
                "ssl.keystore.location", "/etc/tuneloop/kafka-tls/user.p12",
                "ssl.keystore.type", "PKCS12",
                "ssl.keystore.password", "kp",
                "ssl.endpoint.identification.algorithm", "https");
        assertEquals(expected, KafkaClientConfig.clientProperties(fromEnvironment(env)));
    }
}
