package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/**
 * Kafka client security shared by every service's producers and consumers, under {@code tuneloop.kafka.*}
 * (environment: {@code TUNELOOP_KAFKA_*}). Each key is optional: unset means the Kafka client's own default
 * (plaintext). The SASL JAAS config and the store passwords are secrets: from a Secret in a deployment.
 */
@ConfigMapping(prefix = "tuneloop.kafka")
public interface KafkaClientConfig {
    /** {@code security.protocol}: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
    Optional<String> securityProtocol();

    /** {@code sasl.mechanism}, e.g. SCRAM-SHA-512. */
    Optional<String> saslMechanism();

    /** {@code sasl.jaas.config}; secret. */
    Optional<String> saslJaasConfig();

    /** {@code ssl.truststore.location}. */
    Optional<String> sslTruststoreLocation();

    /** {@code ssl.truststore.type}: JKS, PKCS12 or PEM. */
    Optional<String> sslTruststoreType();

    /** {@code ssl.truststore.password}; secret. */
    Optional<String> sslTruststorePassword();

    /** {@code ssl.keystore.location} (mutual TLS). */
    Optional<String> sslKeystoreLocation();

    /** {@code ssl.keystore.type}: JKS, PKCS12 or PEM. */
    Optional<String> sslKeystoreType();

    /** {@code ssl.keystore.password}; secret. */
    Optional<String> sslKeystorePassword();

    /** {@code ssl.endpoint.identification.algorithm}; Kafka's default is {@code https}. */
    Optional<String> sslEndpointIdentificationAlgorithm();
}
