package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.deploy.SchemaValidator.Verdict;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest the chart renders, for the default values, both example files and a file turning every option on,
 * is valid against the Kubernetes API schemas (KEDA's CRD schema for ScaledObjects), with unknown fields rejected.
 * The negative tests prove that the validation bites.
 */
class ManifestSchemaTest {
    /** No schema is installed for these: listed as unchecked in the chart README. */
    static final List<String> UNCHECKED = List.of("kafka.strimzi.io/v1beta2/KafkaTopic");

    private static final Chart CHART = Chart.tuneloopWithHooksRendered();

    static Stream<Arguments> valueSets() {
        Path allFeatures = Path.of("src/test/resources/all-features.yaml").toAbsolutePath();
        return Stream.of(
                Arguments.of("defaults", new Path[0], Map.of()),
                Arguments.of("examples/values-gpu-small.yaml", new Path[] {CHART.example("values-gpu-small.yaml")},
                        Map.of()),
                Arguments.of("examples/values-kind-cpu.yaml", new Path[] {CHART.example("values-kind-cpu.yaml")},
                        Map.of()),
                Arguments.of("all-features.yaml", new Path[] {allFeatures}, Map.of()),
                Arguments.of("all-features.yaml + strimzi topics, existing claim",
                        new Path[] {allFeatures},
                        Map.of("kafka.topics.mode", "strimzi", "model.cache.type", "pvc",
                                "model.cache.pvc.existingClaim", "models", "serviceAccount.create", "false")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueSets")
    void everyRenderedManifestIsValid(String label, Path[] valuesFiles, Map<String, String> set) {
        Rendered rendered = CHART.render(set, valuesFiles);
        assertTrue(rendered.manifests().size() >= 10, label + ": suspiciously few manifests: " + rendered.names());

        List<Verdict> verdicts = SchemaValidator.installed().validate(rendered.manifests());

        List<String> problems = SchemaValidator.problems(verdicts, UNCHECKED);
        assertEquals(List.of(), problems, label + ": invalid manifests");
        long checked = verdicts.stream().filter(v -> v.status().equals("valid")).count();
        long unchecked = verdicts.stream().filter(v -> v.status().equals("no-schema")).count();
        assertEquals(rendered.manifests().size(), checked + unchecked);
    }

    @Test
    void theTestCopyAddsTheHooksAndChangesNothingElse() {
        Rendered real = Chart.tuneloop().render();
        Rendered copy = CHART.render();

        List<String> hooks = copy.manifests().stream()
                .filter(m -> m.path("metadata").path("annotations").has(Chart.HOOK_ANNOTATION))
                .map(m -> m.path("kind").asText() + "/" + m.path("metadata").path("name").asText())
                .toList();
        assertEquals(List.of("ConfigMap/tl-tuneloop-topics", "Job/tl-tuneloop-topics",
                "Pod/tl-tuneloop-test-inference-ready"), hooks.stream().sorted().toList());
        List<ObjectNode> nonHooks = copy.manifests().stream()
                .filter(m -> !m.path("metadata").path("annotations").has(Chart.HOOK_ANNOTATION))
                .toList();
        assertEquals(real.manifests(), nonHooks, "apart from the hooks, the test copy renders what the chart does");
    }

    @Test
    void kedaScaledObjectsAreCheckedAgainstTheirCrdSchema() {
        Rendered rendered = CHART.render(Map.of("trainer.keda.enabled", "true"));
        List<Verdict> verdicts = SchemaValidator.installed().validate(rendered.ofKind("ScaledObject"));
        assertEquals(1, verdicts.size());
        assertEquals("valid", verdicts.get(0).status(), verdicts.get(0).toString());
    }

    @Test
    void misspeltFieldWrongTypeAndMissingRequiredFieldAreRejected() {
        Rendered rendered = CHART.render();
        ObjectNode good = rendered.one("Deployment", "tl-tuneloop-inference");

        ObjectNode misspelt = good.deepCopy();
        ObjectNode container = (ObjectNode) misspelt.at("/spec/template/spec/containers/0");
        container.set("readinesProbe", container.remove("readinessProbe"));

        ObjectNode wrongType = good.deepCopy();
        ((ObjectNode) wrongType.get("spec")).put("replicas", "three");

        ObjectNode badQuantity = good.deepCopy();
        ((ObjectNode) badQuantity.at("/spec/template/spec/containers/0/resources/limits")).put("memory", "4 GB");

        ObjectNode missingRequired = good.deepCopy();
        ((ObjectNode) missingRequired.at("/spec/template/spec/containers/0")).remove("name");

        ObjectNode misspeltInConfigMap = rendered.one("ConfigMap", "tl-tuneloop-common").deepCopy();
        misspeltInConfigMap.set("dta", misspeltInConfigMap.remove("data"));

        List<Verdict> verdicts = SchemaValidator.installed()
                .validate(List.of(good, misspelt, wrongType, badQuantity, missingRequired, misspeltInConfigMap));

        assertEquals("valid", verdicts.get(0).status(), verdicts.get(0).toString());
        assertRejected(verdicts.get(1), "data/spec/template/spec/containers/0 has unknown field \"readinesProbe\"");
        assertRejected(verdicts.get(2), "data/spec/replicas must be integer");
        assertRejected(verdicts.get(3), "data/spec/template/spec/containers/0/resources/limits/memory must match format \"quantity\"");
        assertRejected(verdicts.get(4), "data/spec/template/spec/containers/0 must have required property name");
        assertRejected(verdicts.get(5), "data has unknown field \"dta\"");
    }

    @Test
    void misspeltKedaFieldIsRejected() {
        ObjectNode scaledObject = CHART.render(Map.of("trainer.keda.enabled", "true")).ofKind("ScaledObject").get(0);
        ObjectNode misspelt = scaledObject.deepCopy();
        ObjectNode spec = (ObjectNode) misspelt.get("spec");
        spec.set("maxReplicaCont", spec.remove("maxReplicaCount"));
        ObjectNode wrongType = scaledObject.deepCopy();
        ((ObjectNode) wrongType.get("spec")).put("minReplicaCount", "zero");
        ObjectNode noTriggers = scaledObject.deepCopy();
        ((ObjectNode) noTriggers.get("spec")).remove("triggers");

        List<Verdict> verdicts = SchemaValidator.installed().validate(List.of(misspelt, wrongType, noTriggers));

        assertRejected(verdicts.get(0), "data/spec has unknown field \"maxReplicaCont\"");
        assertRejected(verdicts.get(1), "data/spec/minReplicaCount must be integer");
        assertRejected(verdicts.get(2), "data/spec must have required property triggers");
    }

    @Test
    void aKindWithoutSchemaIsReportedNotPassed() {
        ObjectNode unknown = Chart.parse("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n").get(0);
        ObjectNode typo = Chart.parse("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: d}\n").get(0);

        List<Verdict> verdicts = SchemaValidator.installed().validate(List.of(unknown, typo));

        assertEquals("no-schema", verdicts.get(0).status());
        assertEquals("no-schema", verdicts.get(1).status());
        assertEquals(2, SchemaValidator.problems(verdicts, UNCHECKED).size(),
                "kinds without a schema fail unless listed as unchecked");
    }

    @Test
    void duplicateKeysFailTheParseAsTheyFailKubectl() {
        String yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  A: \"1\"\n  A: \"2\"\n";
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Chart.parse(yaml));
        assertTrue(e.getMessage().contains("Duplicate field 'A'"), e.getMessage());
    }

    @Test
    void mapsOfStringsStillRejectWrongValueTypes() {
        ObjectNode configMap = CHART.render().one("ConfigMap", "tl-tuneloop-trainer").deepCopy();
        ((ObjectNode) configMap.get("data")).put("TUNELOOP_TRAINER_MAX_STEPS", 100);
        ObjectNode deployment = CHART.render().one("Deployment", "tl-tuneloop-trainer").deepCopy();
        ((ArrayNode) deployment.at("/spec/template/spec/containers/0/env")).addObject()
                .put("name", "UNQUOTED").put("value", 8080);

        List<Verdict> verdicts = SchemaValidator.installed().validate(List.of(configMap, deployment));

        assertRejected(verdicts.get(0), "data/data/TUNELOOP_TRAINER_MAX_STEPS must be string");
        assertRejected(verdicts.get(1), "must be string");
    }

    private static void assertRejected(Verdict verdict, String expectedError) {
        assertEquals("invalid", verdict.status(), verdict.toString());
        assertTrue(verdict.errors().stream().anyMatch(e -> e.contains(expectedError)),
                "expected an error containing <" + expectedError + ">, got " + verdict.errors());
    }
}
