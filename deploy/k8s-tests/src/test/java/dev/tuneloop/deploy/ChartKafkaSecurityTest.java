package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Kafka client security (kafka.security.*, tuneloop.kafka.*): the JAAS config and store passwords reach every service
 * only through secretKeyRefs, the TLS Secret is mounted read-only, and nothing is rendered when the values are empty.
 */
class ChartKafkaSecurityTest {
    private static final Chart CHART = Chart.tuneloopWithHooksRendered();
    private static final String TLS_DIR = "/etc/tuneloop/kafka-tls";

    /** Secret variable → [its key in the Secret, whether optional] under all-features.yaml (SASL_SSL, mTLS). */
    private static final Map<String, List<Object>> SECRET_ENV = Map.of(
            "TUNELOOP_KAFKA_SASL_JAAS_CONFIG", List.of("sasl.jaas.config", false),
            "TUNELOOP_KAFKA_SSL_TRUSTSTORE_PASSWORD", List.of("ssl.truststore.password", true),
            "TUNELOOP_KAFKA_SSL_KEYSTORE_PASSWORD", List.of("ssl.keystore.password", false));

    @Test
    void allFeaturesSetsTheNonSecretSettingsInTheCommonConfigMap() {
        JsonNode common = allFeatures().one("ConfigMap", "tl-tuneloop-common").path("data");
        assertEquals("SASL_SSL", common.path("TUNELOOP_KAFKA_SECURITY_PROTOCOL").asText());
        assertEquals("SCRAM-SHA-512", common.path("TUNELOOP_KAFKA_SASL_MECHANISM").asText());
        assertEquals(TLS_DIR + "/ca.p12", common.path("TUNELOOP_KAFKA_SSL_TRUSTSTORE_LOCATION").asText());
        assertEquals("PKCS12", common.path("TUNELOOP_KAFKA_SSL_TRUSTSTORE_TYPE").asText());
        assertEquals(TLS_DIR + "/user.p12", common.path("TUNELOOP_KAFKA_SSL_KEYSTORE_LOCATION").asText());
        assertEquals("PKCS12", common.path("TUNELOOP_KAFKA_SSL_KEYSTORE_TYPE").asText());
    }

    @Test
    void secretSettingsComeOnlyFromSecretKeyRefsAndTheTlsSecretIsMountedReadOnlyInEveryService() {
        Rendered rendered = allFeatures();
        for (ObjectNode cm : rendered.ofKind("ConfigMap")) {
            SECRET_ENV.keySet().forEach(name -> assertFalse(cm.path("data").has(name),
                    cm.at("/metadata/name").asText() + " holds " + name));
        }
        List<ObjectNode> deployments = rendered.ofKind("Deployment");
        assertEquals(4, deployments.size(), "every service has Kafka clients");
        for (ObjectNode d : deployments) {
            String where = d.at("/metadata/name").asText();
            JsonNode pod = d.at("/spec/template/spec");
            Map<String, JsonNode> env = new HashMap<>();
            pod.at("/containers/0/env").forEach(e -> env.put(e.path("name").asText(), e));
            SECRET_ENV.forEach((name, expected) -> {
                JsonNode e = env.get(name);
                assertTrue(e != null && !e.has("value"), where + ": " + name + " must be a secretKeyRef, got " + e);
                JsonNode ref = e.at("/valueFrom/secretKeyRef");
                assertEquals("kafka-user", ref.path("name").asText(), where + " " + name);
                assertEquals(expected.get(0), ref.path("key").asText(), where + " " + name);
                assertEquals(expected.get(1), ref.path("optional").asBoolean(), where + " " + name + " optional");
            });
            JsonNode mount = named(pod.at("/containers/0/volumeMounts"), "kafka-tls", where);
            assertEquals(TLS_DIR, mount.path("mountPath").asText(), where);
            assertTrue(mount.path("readOnly").asBoolean(false), where + ": the TLS Secret must be mounted read-only");
            assertEquals("kafka-tls", named(pod.path("volumes"), "kafka-tls", where).at("/secret/secretName").asText());
        }
    }

    @Test
    void plaintextByDefaultAndTlsOnlyWithAPemTrustStore() {
        for (ObjectNode d : CHART.render().ofKind("Deployment")) {
            String pod = d.at("/spec/template/spec").toString();
            assertFalse(pod.contains("TUNELOOP_KAFKA_") || pod.contains("kafka-tls"), pod);
        }
        assertFalse(CHART.render().one("ConfigMap", "tl-tuneloop-common").toString().contains("TUNELOOP_KAFKA_"));

        // TLS only, Strimzi's cluster CA as PEM: no JAAS config needed, so its key is optional; no key store
        Rendered tls = CHART.render(Map.of("kafka.security.protocol", "SSL",
                "kafka.security.credentialsSecret.name", "kafka-user", "kafka.security.tlsSecret.name", "ca"));
        JsonNode common = tls.one("ConfigMap", "tl-tuneloop-common").path("data");
        assertEquals(TLS_DIR + "/ca.crt", common.path("TUNELOOP_KAFKA_SSL_TRUSTSTORE_LOCATION").asText());
        assertEquals("PEM", common.path("TUNELOOP_KAFKA_SSL_TRUSTSTORE_TYPE").asText());
        assertFalse(common.has("TUNELOOP_KAFKA_SSL_KEYSTORE_LOCATION"), common.toString());
        assertFalse(common.has("TUNELOOP_KAFKA_SASL_MECHANISM"), common.toString());
        String env = tls.one("Deployment", "tl-tuneloop-eval").at("/spec/template/spec/containers/0/env").toString();
        assertTrue(env.contains("{\"name\":\"TUNELOOP_KAFKA_SASL_JAAS_CONFIG\",\"valueFrom\":{\"secretKeyRef\":"
                + "{\"name\":\"kafka-user\",\"key\":\"sasl.jaas.config\",\"optional\":true}}}"), env);
        assertTrue(env.contains("{\"name\":\"TUNELOOP_KAFKA_SSL_KEYSTORE_PASSWORD\",\"valueFrom\":{\"secretKeyRef\":"
                + "{\"name\":\"kafka-user\",\"key\":\"ssl.keystore.password\",\"optional\":true}}}"), env);
    }

    @Test
    void saslWithoutACredentialsSecretOrAnUnknownProtocolIsRefused() {
        Exception noSecret = assertThrows(Exception.class,
                () -> CHART.render(Map.of("kafka.security.protocol", "SASL_SSL")));
        assertTrue(noSecret.getMessage().contains("kafka.security.credentialsSecret.name"), noSecret.getMessage());
        Exception typo = assertThrows(Exception.class,
                () -> CHART.render(Map.of("kafka.security.protocol", "SASL-SSL")));
        assertTrue(typo.getMessage().contains("protocol"), typo.getMessage());
    }

    private static Rendered allFeatures() {
        return CHART.render(Path.of("src/test/resources/all-features.yaml").toAbsolutePath());
    }

    private static JsonNode named(JsonNode list, String name, String where) {
        for (JsonNode item : list) {
            if (name.equals(item.path("name").asText())) {
                return item;
            }
        }
        throw new AssertionError(where + ": no " + name + " in " + list);
    }
}
