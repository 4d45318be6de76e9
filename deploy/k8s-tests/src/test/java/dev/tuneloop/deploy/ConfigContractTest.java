package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.config.DeviceConfig;
import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.config.ModelConfig;
import dev.tuneloop.config.StorageConfig;
import dev.tuneloop.evaluator.EvaluatorConfig;
import dev.tuneloop.inference.InferenceConfig;
import dev.tuneloop.orchestrator.OrchestratorConfig;
import dev.tuneloop.security.AuthConfig;
import dev.tuneloop.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart's environment is the services' configuration: every {@code TUNELOOP_*} variable a Deployment gets
 * (ConfigMap data through envFrom, plus env) sets a key that service declares in its {@code @ConfigMapping}
 * interfaces, and every key without a default is set. A misspelt or stale variable fails here, not in a pod.
 */
class ConfigContractTest {
    private static final Chart CHART = Chart.tuneloop();

    /**
     * The mappings each service reads: its own plus the shared ones of service-config it injects (Kafka client
     * security in all four, every service has Kafka clients), and
     * service-security's {@code tuneloop.auth.*} for the two HTTP APIs.
     */
    private static final Map<String, DeclaredKeys> SERVICES = Map.of(
            "orchestrator", DeclaredKeys.of(OrchestratorConfig.class, StorageConfig.class, KafkaClientConfig.class,
                    AuthConfig.class),
            "trainer", DeclaredKeys.of(TrainerConfig.class, StorageConfig.class, KafkaClientConfig.class,
                    ModelConfig.class, DeviceConfig.class),
            "eval", DeclaredKeys.of(EvaluatorConfig.class, StorageConfig.class, KafkaClientConfig.class,
                    ModelConfig.class, DeviceConfig.class),
            "inference", DeclaredKeys.of(InferenceConfig.class, StorageConfig.class, KafkaClientConfig.class,
                    ModelConfig.class, DeviceConfig.class, AuthConfig.class));

    static Stream<String> valueFiles() {
        return Stream.of("defaults", "values-gpu-small.yaml", "values-kind-cpu.yaml", "all-features.yaml");
    }

    private static Rendered render(String valuesFile) {
        return switch (valuesFile) {
            case "defaults" -> CHART.render();
            case "all-features.yaml" -> CHART.render(Path.of("src/test/resources/all-features.yaml").toAbsolutePath());
            default -> CHART.render(CHART.example(valuesFile));
        };
    }

    /** Component → the names of every environment variable its Deployment's container gets. */
    static Map<String, Set<String>> environmentByComponent(Rendered rendered) {
        Map<String, Set<String>> byComponent = new TreeMap<>();
        for (ObjectNode d : rendered.ofKind("Deployment")) {
            String component = d.at("/metadata/labels/app.kubernetes.io~1component").asText();
            JsonNode container = d.at("/spec/template/spec/containers/0");
            Set<String> names = new TreeSet<>();
            container.path("envFrom").forEach(from -> {
                String configMap = from.at("/configMapRef/name").asText();
                rendered.one("ConfigMap", configMap).path("data").fieldNames().forEachRemaining(names::add);
            });
            container.path("env").forEach(e -> names.add(e.path("name").asText()));
            byComponent.put(component, names);
        }
        return byComponent;
    }

    /** The violations of the contract, one line each; empty when the chart and the services agree. */
    static List<String> violations(Map<String, Set<String>> environment) {
        List<String> violations = new ArrayList<>();
        environment.forEach((component, names) -> {
            DeclaredKeys keys = SERVICES.get(component);
            if (keys == null) {
                violations.add(component + ": a Deployment of no known service");
                return;
            }
            keys.undeclared(names).forEach(name -> violations.add(component + ": " + name
                    + " is rendered but the service declares no such key"));
            keys.missingRequired(names).forEach(name -> violations.add(component + ": " + name
                    + " is required (no default) but not rendered"));
        });
        return violations;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueFiles")
    void everyRenderedTuneloopVariableIsADeclaredKeyAndEveryRequiredKeyIsRendered(String valuesFile) {
        Map<String, Set<String>> environment = environmentByComponent(render(valuesFile));
        assertEquals(SERVICES.keySet(), environment.keySet(), "one Deployment per service");
        assertEquals(List.of(), violations(environment));
    }

    @Test
    void theSharedVariablesReachEveryServiceThatReadsThem() {
        Map<String, Set<String>> environment = environmentByComponent(CHART.render());
        for (String component : List.of("orchestrator", "trainer", "eval", "inference")) {
            assertTrue(environment.get(component).containsAll(List.of("TUNELOOP_STORAGE_ENDPOINT",
                    "TUNELOOP_STORAGE_ACCESS_KEY", "TUNELOOP_STORAGE_SECRET_KEY", "TUNELOOP_STORAGE_BUCKET",
                    "TUNELOOP_STORAGE_REGION", "KAFKA_BOOTSTRAP_SERVERS")),
                    component + ": " + environment.get(component));
        }
        for (String component : List.of("trainer", "eval", "inference")) {
            assertTrue(environment.get(component).containsAll(List.of("TUNELOOP_MODEL_LOCATION", "TUNELOOP_MODEL_ID",
                    "TUNELOOP_MODEL_REVISION", "TUNELOOP_MODEL_CACHE_DIR", "TUNELOOP_DEVICE")),
                    component + ": " + environment.get(component));
        }
        assertTrue(environment.get("orchestrator").containsAll(List.of("TUNELOOP_AUTH_TOKENS_OPERATOR",
                "TUNELOOP_AUTH_TOKENS_VIEWER")), environment.get("orchestrator").toString());
        assertTrue(environment.get("inference").containsAll(List.of("TUNELOOP_AUTH_TOKENS_CLIENT",
                "TUNELOOP_AUTH_TOKENS_OPERATOR", "TUNELOOP_AUTH_TOKENS_VIEWER")),
                environment.get("inference").toString());
        assertTrue(environment.get("trainer").contains("TUNELOOP_TRAINER_MESSAGING_GROUP_ID"));
        assertTrue(environment.get("eval").contains("TUNELOOP_EVALUATOR_MESSAGING_GROUP_ID"));
    }

    @Test
    void kafkaSecurityVariablesReachEveryServiceAndAreDeclaredKeys() {
        Map<String, Set<String>> environment = environmentByComponent(
                CHART.render(Path.of("src/test/resources/all-features.yaml").toAbsolutePath()));
        List<String> kafka = List.of("TUNELOOP_KAFKA_SECURITY_PROTOCOL", "TUNELOOP_KAFKA_SASL_MECHANISM",
                "TUNELOOP_KAFKA_SASL_JAAS_CONFIG", "TUNELOOP_KAFKA_SSL_TRUSTSTORE_LOCATION",
                "TUNELOOP_KAFKA_SSL_TRUSTSTORE_TYPE", "TUNELOOP_KAFKA_SSL_TRUSTSTORE_PASSWORD",
                "TUNELOOP_KAFKA_SSL_KEYSTORE_LOCATION", "TUNELOOP_KAFKA_SSL_KEYSTORE_TYPE",
                "TUNELOOP_KAFKA_SSL_KEYSTORE_PASSWORD");
        for (String component : List.of("orchestrator", "trainer", "eval", "inference")) {
            assertTrue(environment.get(component).containsAll(kafka), component + ": " + environment.get(component));
            assertEquals(List.of(), SERVICES.get(component).undeclared(kafka), component);
        }
        assertTrue(environmentByComponent(CHART.render()).get("trainer").stream()
                .noneMatch(name -> name.startsWith("TUNELOOP_KAFKA_")), "plaintext by default: nothing rendered");
        assertEquals(List.of("TUNELOOP_KAFKA_SSL_TRUST_STORE_PASSWORD"), SERVICES.get("eval").undeclared(List.of(
                "TUNELOOP_KAFKA_SSL_TRUSTSTORE_PASSWORD", "TUNELOOP_KAFKA_SSL_TRUST_STORE_PASSWORD")),
                "a misspelt store variable is not a declared key");
    }

    @Test
    void theImagesSetOnlyDeclaredKeys() {
        Path docker = Path.of(System.getProperty("tuneloop.repo.dir", "../..")).toAbsolutePath()
                .resolve("deploy/docker");
        Map<String, String> componentByImage = Map.of("orchestrator", "orchestrator", "trainer-worker", "trainer",
                "eval-worker", "eval", "inference-service", "inference");
        componentByImage.forEach((image, component) -> {
            Dockerfile dockerfile = Dockerfile.read(docker.resolve(image + ".Dockerfile"));
            Set<String> names = new TreeSet<>();
            dockerfile.stages().values().forEach(stage -> names.addAll(Dockerfile.env(stage).keySet()));
            assertEquals(List.of(), SERVICES.get(component).undeclared(names), image + ".Dockerfile ENV");
        });
    }

    @Test
    void aMisspeltOrStaleVariableFailsTheContract() {
        // the correct spelling passes ...
        assertEquals(List.of(), violations(environmentByComponent(CHART.render(Map.of(
                "trainer.config.TUNELOOP_TRAINER_WORK_DIR", "/tmp/work",
                "inference.config.TUNELOOP_INFERENCE_LIMITS_MAX_TOKENS", "256",
                "orchestrator.config.TUNELOOP_ORCHESTRATOR_TRIGGERS__TUNELOOP_DATASETS__MODEL_ID", "Qwen/x")))));
        // ... a missing '_', an old per-service name, the pre-contract S3 name and a key of another service do not
        List<String> violations = violations(environmentByComponent(CHART.render(Map.of(
                "trainer.config.TUNELOOP_TRAINER_WORKDIR", "/tmp/work",
                "eval.config.TUNELOOP_EVALUATOR_STORAGE_BUCKET", "other",
                "inference.config.TUNELOOP_S3_PATH_STYLE", "true",
                "orchestrator.config.TUNELOOP_MODEL_LOCATION", "tiny"))));
        assertEquals(List.of(
                "eval: TUNELOOP_EVALUATOR_STORAGE_BUCKET is rendered but the service declares no such key",
                "inference: TUNELOOP_S3_PATH_STYLE is rendered but the service declares no such key",
                "orchestrator: TUNELOOP_MODEL_LOCATION is rendered but the service declares no such key",
                "trainer: TUNELOOP_TRAINER_WORKDIR is rendered but the service declares no such key"), violations);
    }

    @Test
    void aRequiredKeyLeftOutFailsTheContract() {
        Map<String, Set<String>> environment = environmentByComponent(CHART.render());
        environment.get("eval").remove("TUNELOOP_STORAGE_ENDPOINT");
        environment.get("orchestrator").remove("TUNELOOP_STORAGE_SECRET_KEY");
        assertEquals(List.of(
                "eval: TUNELOOP_STORAGE_ENDPOINT is required (no default) but not rendered",
                "orchestrator: TUNELOOP_STORAGE_SECRET_KEY is required (no default) but not rendered"),
                violations(environment));
    }

    @Test
    void aTokenVariableOfTheWrongNameOrServiceFailsTheContract() {
        Map<String, Set<String>> environment = environmentByComponent(CHART.render());
        environment.get("trainer").add("TUNELOOP_AUTH_TOKENS_OPERATOR");
        environment.get("inference").add("TUNELOOP_AUTH_TOKEN_CLIENT");
        assertEquals(List.of(
                "inference: TUNELOOP_AUTH_TOKEN_CLIENT is rendered but the service declares no such key",
                "trainer: TUNELOOP_AUTH_TOKENS_OPERATOR is rendered but the service declares no such key"),
                violations(environment));
    }

    @Test
    void keysAreNamedTheWaySmallRyeNamesThem() {
        DeclaredKeys trainer = SERVICES.get("trainer");
        assertTrue(trainer.keys().containsAll(List.of("tuneloop.storage.access-key",
                "tuneloop.storage.allowed-prefixes", "tuneloop.model.tokenizer-dir", "tuneloop.device",
                "tuneloop.trainer.messaging.group-id", "tuneloop.trainer.messaging.kafka.*")),
                trainer.keys().toString());
        assertEquals(List.of("tuneloop.storage.access-key", "tuneloop.storage.endpoint", "tuneloop.storage.secret-key"),
                trainer.required().stream().sorted().toList(), "only the store's endpoint and keys lack a default");
        assertTrue(SERVICES.get("orchestrator").keys().contains("tuneloop.orchestrator.triggers.*.model-id"));
        assertTrue(SERVICES.get("inference").keys().contains("tuneloop.inference.batching.max-batch-size"));
        for (String service : List.of("orchestrator", "inference")) {
            assertTrue(SERVICES.get(service).keys().containsAll(List.of("tuneloop.auth.enabled",
                    "tuneloop.auth.tokens.operator", "tuneloop.auth.tokens.viewer", "tuneloop.auth.tokens.client",
                    "tuneloop.storage.allowed-https-hosts")), service + ": " + SERVICES.get(service).keys());
        }
        assertTrue(SERVICES.get("trainer").keys().stream().noneMatch(k -> k.startsWith("tuneloop.auth.")),
                "the workers have no API and read no tokens");
        assertEquals("TUNELOOP_MODEL_TOKENIZER_DIR", DeclaredKeys.envName("tuneloop.model.tokenizer-dir"));
    }
}
