package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.LintResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** helm lint --strict (warnings fail), and the chart's own refusals of bad values. */
class ChartLintTest {
    private static final Chart CHART = Chart.tuneloop();

    @Test
    void lintStrictPasses() {
        LintResult result = CHART.lintStrict();

        List<String> problems = result.getMessages().stream()
                .filter(m -> m.contains("[WARNING]") || m.contains("[ERROR]"))
                .toList();
        assertEquals(List.of(), problems, "helm lint --strict " + CHART.dir());
        assertFalse(result.isFailed(), String.join("\n", result.getMessages()));
    }

    @Test
    void misspeltValueKeyIsRefusedByTheValuesSchema() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CHART.render(Map.of("trainer.replicaCount", "2")));
        assertTrue(e.getMessage().contains("replicaCount"), e.getMessage());
    }

    @Test
    void credentialsInValuesAreRefused() {
        IllegalStateException inS3 = assertThrows(IllegalStateException.class,
                () -> CHART.render(Map.of("s3.secretKey", "hunter2")));
        assertTrue(inS3.getMessage().contains("secretKey"), inS3.getMessage());

        IllegalStateException inConfig = assertThrows(IllegalStateException.class,
                () -> CHART.render(Map.of("trainer.config.TUNELOOP_STORAGE_SECRET_KEY", "hunter2")));
        assertTrue(inConfig.getMessage().contains("trainer.config.TUNELOOP_STORAGE_SECRET_KEY looks like a credential"),
                inConfig.getMessage());

        IllegalStateException token = assertThrows(IllegalStateException.class,
                () -> CHART.render(Map.of("inference.config.HF_TOKEN", "hf_abc")));
        assertTrue(token.getMessage().contains("looks like a credential"), token.getMessage());
    }

    @Test
    void settingsThatOnlyContainACredentialWordAreAccepted() {
        Rendered rendered = CHART.render(Map.of("inference.config.TUNELOOP_INFERENCE_LIMITS_MAX_TOKENS", "256",
                "trainer.config.TUNELOOP_TRAINER_PASSES", "3"));

        assertEquals("256", rendered.one("ConfigMap", "tl-tuneloop-inference")
                .path("data").path("TUNELOOP_INFERENCE_LIMITS_MAX_TOKENS").asText());
    }

    @Test
    void invalidChoicesAreRefused() {
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("kafka.topics.mode", "operator")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("model.cache.type", "nfs")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("inference.autoscaling.metric", "gpu")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("trainer.replicas", "-1")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("trainer.gpu.count", "0")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("eval.keda.lagTreshold", "3")));
        assertThrows(IllegalStateException.class, () -> CHART.render(Map.of("s3.credentialsSecret.name", "")));
    }
}
