package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How every Kafka client of a service connects, under {@code tuneloop.kafka.*} (environment:
 * {@code TUNELOOP_KAFKA_*}): TLS and SASL for a secured broker (e.g. Strimzi). All optional; none set = plaintext. The
 * broker address stays {@code kafka.bootstrap.servers}. The three secrets come from a Secret in a deployment; the
 * Kafka client masks them in its own config log and tuneloop never logs them.
 */
@ConfigMapping(prefix = "tuneloop.kafka")
public interface KafkaClientConfig {
    /** {@code PLAINTEXT}, {@code SSL}, {@code SASL_PLAINTEXT} or {@code SASL_SSL} ({@code security.protocol}). */
    Optional<String> securityProtocol();

    /** e.g. {@code SCRAM-SHA-512}, {@code PLAIN} ({@code sasl.mechanism}). */
    Optional<String> saslMechanism();

    /** The JAAS login line with the user's credentials ({@code sasl.jaas.config}); secret. */
    Optional<String> saslJaasConfig();

    /** A truststore file with the broker's CA ({@code ssl.truststore.location}). */
    Optional<String> sslTruststoreLocation();

    /** {@code PKCS12} (Strimzi's) or {@code JKS} or {@code PEM} ({@code ssl.truststore.type}). */
    Optional<String> sslTruststoreType();

    /** Secret. */
    Optional<String> sslTruststorePassword();

    /** A keystore file with the client's certificate, for mutual TLS ({@code ssl.keystore.location}). */
    Optional<String> sslKeystoreLocation();

    Optional<String> sslKeystoreType();

    /** Secret. */
    Optional<String> sslKeystorePassword();

    /** {@code https} (the client's default: verify the broker's host name) or empty to switch the check off. */
    Optional<String> sslEndpointIdentificationAlgorithm();

    /** The Kafka client properties these settings stand for, only those that are set. */
    static Map<String, String> clientProperties(KafkaClientConfig c) {
        Map<String, String> p = new LinkedHashMap<>();
        c.securityProtocol().ifPresent(v -> p.put("security.protocol", v));
        c.saslMechanism().ifPresent(v -> p.put("sasl.mechanism", v));
        c.saslJaasConfig().ifPresent(v -> p.put("sasl.jaas.config", v));
        c.sslTruststoreLocation().ifPresent(v -> p.put("ssl.truststore.location", v));
        c.sslTruststoreType().ifPresent(v -> p.put("ssl.truststore.type", v));
        c.sslTruststorePassword().ifPresent(v -> p.put("ssl.truststore.password", v));
        c.sslKeystoreLocation().ifPresent(v -> p.put("ssl.keystore.location", v));
        c.sslKeystoreType().ifPresent(v -> p.put("ssl.keystore.type", v));
        c.sslKeystorePassword().ifPresent(v -> p.put("ssl.keystore.password", v));
        c.sslEndpointIdentificationAlgorithm().ifPresent(v -> p.put("ssl.endpoint.identification.algorithm", v));
        return p;
    }
}
