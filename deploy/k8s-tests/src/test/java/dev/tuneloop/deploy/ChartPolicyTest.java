package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.deploy.Rendered.PodSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The promises the chart makes about every rendered workload, for every shipped values file. */
class ChartPolicyTest {
    private static final Chart CHART = Chart.tuneloopWithHooksRendered();
    private static final Set<String> SERVICES = Set.of("orchestrator", "inference", "trainer", "eval");
    private static final Pattern SECRET_NAME = Pattern.compile(
            "(?i)(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|SECRET_KEY|API_KEY|CREDENTIALS?|JAAS_CONFIG)(_|$)");

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

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueFiles")
    void everyContainerHasLimitsAndARestrictedNonRootSecurityContext(String valuesFile) {
        List<String> problems = new ArrayList<>();
        List<PodSpec> pods = render(valuesFile).podSpecs();
        assertTrue(pods.size() >= 5, valuesFile + ": expected 4 Deployments, the topic Job and the test Pod");
        for (PodSpec pod : pods) {
            JsonNode podSecurity = pod.spec().path("securityContext");
            check(problems, podSecurity.path("runAsNonRoot").asBoolean(false), pod.owner(), "pod runAsNonRoot");
            check(problems, podSecurity.path("runAsUser").asInt(0) > 0, pod.owner(), "pod runAsUser > 0");
            check(problems, "RuntimeDefault".equals(podSecurity.at("/seccompProfile/type").asText()), pod.owner(),
                    "seccompProfile RuntimeDefault");
            check(problems, !pod.spec().path("automountServiceAccountToken").asBoolean(true), pod.owner(),
                    "no service account token");
            for (JsonNode c : pod.containers()) {
                String where = pod.owner() + " container " + c.path("name").asText();
                JsonNode sc = c.path("securityContext");
                check(problems, sc.path("runAsNonRoot").asBoolean(false), where, "runAsNonRoot");
                check(problems, sc.path("runAsUser").asInt(0) > 0, where, "runAsUser > 0");
                check(problems, sc.path("readOnlyRootFilesystem").asBoolean(false), where, "readOnlyRootFilesystem");
                check(problems, sc.has("allowPrivilegeEscalation") && !sc.path("allowPrivilegeEscalation").asBoolean(),
                        where, "allowPrivilegeEscalation false");
                check(problems, !sc.path("privileged").asBoolean(false), where, "not privileged");
                check(problems, sc.at("/capabilities/drop").toString().contains("\"ALL\""), where,
                        "capabilities drop ALL");
                check(problems, !sc.at("/capabilities/add").isArray() || sc.at("/capabilities/add").isEmpty(), where,
                        "no added capabilities");
                JsonNode limits = c.at("/resources/limits");
                check(problems, limits.has("cpu") && limits.has("memory"), where, "cpu and memory limits");
                JsonNode requests = c.at("/resources/requests");
                check(problems, requests.has("cpu") && requests.has("memory"), where, "cpu and memory requests");
            }
        }
        assertEquals(List.of(), problems, valuesFile);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueFiles")
    void everyServiceHasProbesOnTheQuarkusHealthEndpoints(String valuesFile) {
        Rendered rendered = render(valuesFile);
        List<ObjectNode> deployments = rendered.ofKind("Deployment");
        assertEquals(SERVICES, componentsOf(deployments), valuesFile);
        for (ObjectNode d : deployments) {
            for (JsonNode c : d.at("/spec/template/spec/containers")) {
                String where = d.at("/metadata/name").asText() + "/" + c.path("name").asText();
                assertEquals("/q/health/live", c.at("/livenessProbe/httpGet/path").asText(), where);
                assertEquals("/q/health/ready", c.at("/readinessProbe/httpGet/path").asText(), where);
                assertEquals("/q/health/live", c.at("/startupProbe/httpGet/path").asText(), where);
                assertEquals("http", c.at("/readinessProbe/httpGet/port").asText(), where);
                assertEquals(8080, c.at("/ports/0/containerPort").asInt(), where);
                assertEquals("http", c.at("/ports/0/name").asText(), where);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueFiles")
    void noSecretValueOrSecretNameInAnyConfigMapAndCredentialsComeFromSecrets(String valuesFile) {
        Rendered rendered = render(valuesFile);
        assertEquals(List.of(), rendered.ofKind("Secret"), "the chart never creates Secrets from values");
        for (ObjectNode cm : rendered.ofKind("ConfigMap")) {
            cm.path("data").fieldNames().forEachRemaining(key -> assertFalse(SECRET_NAME.matcher(key).find(),
                    cm.at("/metadata/name").asText() + " holds a credential-like key " + key));
        }
        for (ObjectNode d : rendered.ofKind("Deployment")) {
            JsonNode env = d.at("/spec/template/spec/containers/0/env");
            Map<String, JsonNode> byName = new HashMap<>();
            env.forEach(e -> byName.put(e.path("name").asText(), e));
            for (String name : List.of("TUNELOOP_STORAGE_ACCESS_KEY", "TUNELOOP_STORAGE_SECRET_KEY")) {
                JsonNode ref = byName.get(name);
                assertTrue(ref != null && ref.at("/valueFrom/secretKeyRef/name").isTextual() && !ref.has("value"),
                        d.at("/metadata/name").asText() + ": " + name + " must come from a secretKeyRef, got " + ref);
            }
            env.forEach(e -> {
                if (SECRET_NAME.matcher(e.path("name").asText()).find()) {
                    assertFalse(e.has("value"), "literal credential in env: " + e);
                }
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueFiles")
    void apiTokensComeOnlyFromTheTokensSecretAndAuthenticationIsNeverSwitchedOff(String valuesFile) {
        Rendered rendered = render(valuesFile);
        Map<String, Set<String>> expected = Map.of(
                "orchestrator", Set.of("TUNELOOP_AUTH_TOKENS_OPERATOR", "TUNELOOP_AUTH_TOKENS_VIEWER"),
                "inference", Set.of("TUNELOOP_AUTH_TOKENS_CLIENT", "TUNELOOP_AUTH_TOKENS_OPERATOR",
                        "TUNELOOP_AUTH_TOKENS_VIEWER"),
                "trainer", Set.of(), "eval", Set.of());
        for (ObjectNode d : rendered.ofKind("Deployment")) {
            String component = d.at("/metadata/labels/app.kubernetes.io~1component").asText();
            JsonNode container = d.at("/spec/template/spec/containers/0");
            Set<String> auth = new TreeSet<>();
            for (JsonNode e : container.path("env")) {
                String name = e.path("name").asText();
                if (!name.startsWith("TUNELOOP_AUTH_")) {
                    continue;
                }
                auth.add(name);
                assertFalse(e.has("value"), valuesFile + " " + component + ": literal value for " + name);
                assertFalse(e.at("/valueFrom/secretKeyRef/name").asText().isEmpty(),
                        valuesFile + " " + component + ": " + name + " must come from a secretKeyRef, got " + e);
                assertFalse(e.at("/valueFrom/secretKeyRef/key").asText().isEmpty(), valuesFile + ": " + e);
            }
            assertEquals(expected.get(component), auth, valuesFile + " " + component);
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                assertFalse(container.path(probe).path("httpGet").has("httpHeaders"),
                        valuesFile + " " + component + ": " + probe + " must need no token");
            }
        }
        for (ObjectNode cm : rendered.ofKind("ConfigMap")) {
            cm.path("data").fieldNames().forEachRemaining(key -> assertFalse(key.startsWith("TUNELOOP_AUTH_"),
                    cm.at("/metadata/name").asText() + " sets " + key));
        }
    }

    @Test
    void theTokensSecretIsRequiredAndAuthenticationCannotBeSwitchedOffThroughConfig() {
        Exception noSecret = assertThrows(Exception.class,
                () -> CHART.render(Map.of("auth.tokensSecret.name", "")));
        assertTrue(noSecret.getMessage().contains("auth.tokensSecret.name is required")
                && noSecret.getMessage().contains("kubectl create secret generic"), noSecret.getMessage());
        // only the two HTTP services need it
        Rendered workersOnly = CHART.render(Map.of("auth.tokensSecret.name", "", "orchestrator.enabled", "false",
                "inference.enabled", "false"));
        assertEquals(2, workersOnly.ofKind("Deployment").size());

        for (String key : List.of("TUNELOOP_AUTH_ENABLED", "tuneloop_auth_enabled")) {
            Exception off = assertThrows(Exception.class,
                    () -> CHART.render(Map.of("inference.config." + key, "false")));
            assertTrue(off.getMessage().contains("inference.config." + key + ": tuneloop.auth.* is set by the chart"),
                    off.getMessage());
        }
    }

    @Test
    void theHttpsAllowListReachesTheOrchestratorAndWorkersOnlyWhenSet() {
        for (ObjectNode cm : CHART.render().ofKind("ConfigMap")) {
            assertFalse(cm.path("data").has("TUNELOOP_STORAGE_ALLOWED_HTTPS_HOSTS"),
                    "empty by default: " + cm.at("/metadata/name").asText());
        }
        Rendered rendered = CHART.render(Map.of("storage.allowedHttpsHosts[0]", "data.example.org",
                "storage.allowedHttpsHosts[1]", "mirror.example.com:8443"));
        for (String component : List.of("orchestrator", "trainer", "eval")) {
            assertEquals("data.example.org,mirror.example.com:8443", rendered.one("ConfigMap", "tl-tuneloop-" + component)
                    .at("/data/TUNELOOP_STORAGE_ALLOWED_HTTPS_HOSTS").asText(), component);
        }
        assertFalse(rendered.one("ConfigMap", "tl-tuneloop-inference").path("data")
                .has("TUNELOOP_STORAGE_ALLOWED_HTTPS_HOSTS"), "the inference service reads no https host");
        for (String bad : List.of("https://data.example.org", "*.example.org", "data.example.org/path")) {
            Exception refused = assertThrows(Exception.class,
                    () -> CHART.render(Map.of("storage.allowedHttpsHosts[0]", bad)));
            assertTrue(refused.getMessage().contains("allowedHttpsHosts"), bad + ": " + refused.getMessage());
        }
    }

    @Test
    void secretValuesNeverReachRenderedOutput() {
        // Secret names and keys are configurable; what the Secrets hold never passes through Helm.
        Rendered rendered = CHART.render(Map.of("s3.credentialsSecret.name", "prod-s3",
                "s3.credentialsSecret.accessKeyKey", "AWS_ACCESS_KEY_ID",
                "model.hfTokenSecret.name", "hub", "auth.tokensSecret.name", "prod-api",
                "auth.tokensSecret.clientKey", "apps"));
        String inferenceEnv = rendered.one("Deployment", "tl-tuneloop-inference")
                .at("/spec/template/spec/containers/0/env").toString();
        assertTrue(inferenceEnv.contains("{\"name\":\"TUNELOOP_AUTH_TOKENS_CLIENT\",\"valueFrom\":{\"secretKeyRef\":"
                + "{\"name\":\"prod-api\",\"key\":\"apps\"}}}"), inferenceEnv);
        assertTrue(inferenceEnv.contains("{\"name\":\"TUNELOOP_AUTH_TOKENS_OPERATOR\",\"valueFrom\":{\"secretKeyRef\":"
                + "{\"name\":\"prod-api\",\"key\":\"operator\"}}}"), inferenceEnv);
        ObjectNode trainer = rendered.one("Deployment", "tl-tuneloop-trainer");
        String env = trainer.at("/spec/template/spec/containers/0/env").toString();
        assertTrue(env.contains("{\"name\":\"TUNELOOP_STORAGE_ACCESS_KEY\",\"valueFrom\":{\"secretKeyRef\":"
                + "{\"name\":\"prod-s3\",\"key\":\"AWS_ACCESS_KEY_ID\"}}}"), env);
        assertTrue(env.contains("{\"name\":\"HF_TOKEN\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"hub\",\"key\":\"token\"}}}"),
                env);
    }

    @Test
    void trainerRequestsAGpuOnlyWhenGpuValuesAreOn() {
        ObjectNode cpu = CHART.render().one("Deployment", "tl-tuneloop-trainer");
        assertFalse(cpu.at("/spec/template/spec/containers/0/resources/limits").has("nvidia.com/gpu"));
        assertEquals("ghcr.io/tuneloop/tuneloop-trainer-worker:0.1.0",
                cpu.at("/spec/template/spec/containers/0/image").asText());
        assertEquals("cpu", CHART.render().one("ConfigMap", "tl-tuneloop-trainer").at("/data/TUNELOOP_DEVICE").asText());

        Rendered gpuCluster = CHART.render(CHART.example("values-gpu-small.yaml"));
        ObjectNode gpu = gpuCluster.one("Deployment", "tl-tuneloop-trainer");
        JsonNode pod = gpu.at("/spec/template/spec");
        assertEquals(1, pod.at("/containers/0/resources/limits/nvidia.com~1gpu").asInt());
        assertEquals(2, gpu.at("/spec/replicas").asInt(), "replicas = parallel training jobs");
        assertEquals("true", pod.at("/nodeSelector/nvidia.com~1gpu.present").asText());
        assertEquals("nvidia.com/gpu", pod.at("/tolerations/0/key").asText());
        assertEquals("NoSchedule", pod.at("/tolerations/0/effect").asText());
        assertEquals("registry.example.com/tuneloop/tuneloop-trainer-worker:0.1.0-gpu",
                pod.at("/containers/0/image").asText());
        assertEquals("gpu", gpuCluster.one("ConfigMap", "tl-tuneloop-trainer").at("/data/TUNELOOP_DEVICE").asText());
        assertEquals(0, gpu.at("/spec/strategy/rollingUpdate/maxSurge").asInt(),
                "a surge pod would wait for a GPU that the old pod holds");

        ObjectNode twoGpus = CHART.render(Map.of("trainer.gpu.enabled", "true", "trainer.gpu.count", "2",
                "trainer.gpu.resourceName", "amd.com/gpu")).one("Deployment", "tl-tuneloop-trainer");
        assertEquals(2, twoGpus.at("/spec/template/spec/containers/0/resources/limits/amd.com~1gpu").asInt());
    }

    @Test
    void djlRunsOfflineWithItsNativeCacheOnAWritableVolume() {
        Rendered rendered = CHART.render();
        JsonNode common = rendered.one("ConfigMap", "tl-tuneloop-common").path("data");
        assertEquals("/var/cache/djl", common.path("DJL_CACHE_DIR").asText());
        assertEquals("true", common.path("DJL_OFFLINE").asText());
        assertEquals("ACTIVE", common.path("OMP_WAIT_POLICY").asText());
        assertEquals("1000", common.path("GOMP_SPINCOUNT").asText());
        assertEquals("AUTO,STRICT", common.path("MKL_CBWR").asText());
        assertEquals("/var/cache/tuneloop/models/hf", common.path("HF_HOME").asText());
        for (String component : List.of("inference", "trainer", "eval")) {
            JsonNode pod = rendered.one("Deployment", "tl-tuneloop-" + component).at("/spec/template/spec");
            Set<String> mounts = new HashSet<>();
            pod.at("/containers/0/volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
            assertEquals(Set.of("/tmp", "/var/cache/djl", "/var/cache/tuneloop/models"), mounts, component);
            assertEquals("tl-tuneloop-model-cache",
                    volume(pod, "model-cache").at("/persistentVolumeClaim/claimName").asText(), component);
            assertTrue(volume(pod, "djl-cache").has("emptyDir"), component);
        }
        ObjectNode pvc = rendered.one("PersistentVolumeClaim", "tl-tuneloop-model-cache");
        assertEquals("ReadWriteMany", pvc.at("/spec/accessModes/0").asText());
        assertEquals("keep", pvc.at("/metadata/annotations/helm.sh~1resource-policy").asText(),
                "uninstall must not throw away downloaded models");
    }

    @Test
    void inferenceAutoscalesWithAPdbAndWorkersScaleOnConsumerLagWithKeda() {
        Rendered defaults = CHART.render();
        ObjectNode inference = defaults.one("Deployment", "tl-tuneloop-inference");
        assertFalse(inference.path("spec").has("replicas"), "the HPA owns the replica count");
        ObjectNode hpa = defaults.one("HorizontalPodAutoscaler", "tl-tuneloop-inference");
        assertEquals("tl-tuneloop-inference", hpa.at("/spec/scaleTargetRef/name").asText());
        assertEquals("cpu", hpa.at("/spec/metrics/0/resource/name").asText());
        ObjectNode pdb = defaults.one("PodDisruptionBudget", "tl-tuneloop-inference");
        assertEquals(1, pdb.at("/spec/minAvailable").asInt());
        assertEquals("inference", pdb.at("/spec/selector/matchLabels/app.kubernetes.io~1component").asText());
        assertEquals(List.of(), defaults.ofKind("ScaledObject"), "KEDA is optional and off by default");

        Rendered custom = CHART.render(CHART.example("values-gpu-small.yaml"));
        ObjectNode customHpa = custom.one("HorizontalPodAutoscaler", "tl-tuneloop-inference");
        assertEquals("Pods", customHpa.at("/spec/metrics/0/type").asText());
        assertEquals("http_server_active_requests", customHpa.at("/spec/metrics/0/pods/metric/name").asText());

        Rendered keda = CHART.render(Map.of("trainer.keda.enabled", "true", "eval.keda.enabled", "true"));
        for (String component : List.of("trainer", "eval")) {
            ObjectNode so = keda.one("ScaledObject", "tl-tuneloop-" + component);
            ObjectNode deployment = keda.one("Deployment", "tl-tuneloop-" + component);
            assertFalse(deployment.path("spec").has("replicas"), component + ": KEDA owns the replica count");
            assertEquals(deployment.at("/metadata/name").asText(), so.at("/spec/scaleTargetRef/name").asText());
            JsonNode trigger = so.at("/spec/triggers/0");
            assertEquals("kafka", trigger.path("type").asText());
            String group = keda.one("ConfigMap", "tl-tuneloop-" + component)
                    .at("/data/TUNELOOP_" + (component.equals("eval") ? "EVALUATOR" : "TRAINER")
                            + "_MESSAGING_GROUP_ID").asText();
            assertFalse(group.isEmpty(), component + ": consumer group in the ConfigMap");
            assertEquals(group, trigger.at("/metadata/consumerGroup").asText(),
                    component + ": KEDA must watch the group the workers consume with");
            assertEquals(keda.one("ConfigMap", "tl-tuneloop-common").at("/data/KAFKA_BOOTSTRAP_SERVERS").asText(),
                    trigger.at("/metadata/bootstrapServers").asText());
        }
        assertEquals("tuneloop.training-requested.v1",
                keda.one("ScaledObject", "tl-tuneloop-trainer").at("/spec/triggers/0/metadata/topic").asText());
        assertEquals("tuneloop.checkpoint-saved.v1",
                keda.one("ScaledObject", "tl-tuneloop-eval").at("/spec/triggers/0/metadata/topic").asText());
    }

    @Test
    void helmTestCallsTheInferenceReadinessEndpoint() {
        ObjectNode test = CHART.render().one("Pod", "tl-tuneloop-test-inference-ready");
        assertEquals("test", test.at("/metadata/annotations/" + Chart.HOOK_ANNOTATION.replace("/", "~1")).asText());
        String command = test.at("/spec/containers/0/command").toString();
        assertTrue(command.contains("\"http://tl-tuneloop-inference:8080/q/health/ready\""), command);
        assertTrue(command.contains("\"--fail\""), "curl must fail on a non-2xx status: " + command);
        assertFalse(command.toLowerCase(java.util.Locale.ROOT).contains("authorization"),
                "/q/health/ready needs no token, and a token would be a literal in the pod: " + command);
    }

    @Test
    void networkPoliciesLetTheReleaseAndListedPeersIn() {
        Rendered rendered = CHART.render(Path.of("src/test/resources/all-features.yaml").toAbsolutePath());
        ObjectNode inference = rendered.one("NetworkPolicy", "tl-tuneloop-inference-http");
        JsonNode from = inference.at("/spec/ingress/0/from");
        assertEquals("tl", from.at("/0/podSelector/matchLabels/app.kubernetes.io~1instance").asText());
        assertEquals("gateway", from.at("/1/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText());
        ObjectNode defaults = rendered.one("NetworkPolicy", "tl-tuneloop-default");
        assertEquals("[\"Ingress\",\"Egress\"]", defaults.at("/spec/policyTypes").toString());
        assertEquals(53, defaults.at("/spec/egress/0/ports/0/port").asInt(), "DNS stays reachable");
        assertEquals(List.of(), CHART.render().ofKind("NetworkPolicy"), "off by default");
    }

    private static JsonNode volume(JsonNode podSpec, String name) {
        for (JsonNode v : podSpec.path("volumes")) {
            if (name.equals(v.path("name").asText())) {
                return v;
            }
        }
        throw new AssertionError("no volume " + name + " in " + podSpec.path("volumes"));
    }

    private static Set<String> componentsOf(List<ObjectNode> manifests) {
        Set<String> components = new HashSet<>();
        manifests.forEach(m -> components.add(m.at("/metadata/labels/app.kubernetes.io~1component").asText()));
        return components;
    }

    private static void check(List<String> problems, boolean ok, String where, String what) {
        if (!ok) {
            problems.add(where + ": " + what);
        }
    }
}
