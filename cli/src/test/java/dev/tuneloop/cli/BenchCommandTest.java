package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.qwen2.Qwen2Config;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tuneloop bench model|serve --quick}: the report's last line is the JSON summary, with positive numbers. */
class BenchCommandTest {
    @Test
    void quickModelBenchEndsWithJsonSummary() throws Exception {
        CliRun run = CliRun.of("bench", "model", "--quick");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode summary = new ObjectMapper().readTree(run.lastLine());
        List<String> keys = new ArrayList<>();
        summary.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("train_tokens_per_s", "train_fraction_of_gemm", "decode_tokens_per_s",
                "decode_fraction_of_bandwidth", "peak_rss_gb"), keys);
        for (String key : keys) {
            JsonNode v = summary.get(key);
            assertTrue(v.isNumber() && v.asDouble() > 0 && Double.isFinite(v.asDouble()), key + " = " + v);
        }
        assertTrue(run.out().contains("GEMM:") && run.out().contains("copy bandwidth:"), run.describe());
    }

    @Test
    void quickServeBenchReportsLatencyThroughputSwapAndMemory() throws Exception {
        CliRun run = CliRun.of("bench", "serve", "--quick", "--clients", "4");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode summary = new ObjectMapper().readTree(run.lastLine());
        List<String> keys = new ArrayList<>();
        summary.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("one_client_tokens_per_s", "one_client_p50_s", "one_client_p95_s", "clients",
                "clients_tokens_per_s", "clients_p50_s", "clients_p95_s", "speedup", "squad_one_client_p50_s",
                "squad_clients_p50_s", "squad_clients_tokens_per_s", "swap_ms_p50", "swap_ms_max",
                "swap_8_token_probe_ms_p50", "swap_rollback_ms_p50", "swap_prefetched_ms_p50", "swap_prepared_ms_p50",
                "rss_steady_mb", "rss_swap_peak_mb", "rss_swap_ratio", "load_average_start", "load_average_end"), keys);
        for (String key : keys.subList(0, keys.size() - 2)) {
            JsonNode v = summary.get(key);
            assertTrue(v.isNumber() && v.asDouble() > 0 && Double.isFinite(v.asDouble()), key + " = " + v);
        }
        assertEquals(4, summary.get("clients").asInt());
        assertTrue(summary.get("one_client_p50_s").asDouble() <= summary.get("one_client_p95_s").asDouble());
        assertTrue(summary.get("swap_prepared_ms_p50").asDouble() <= summary.get("swap_ms_max").asDouble());
        assertTrue(summary.get("rss_swap_peak_mb").asDouble() > 0 && summary.get("rss_swap_ratio").asDouble() > 0.5);
        assertTrue(run.out().contains("adapter: ") && run.out().contains("batches: "), run.describe());
    }

    @Test
    void layerMatrixParametersOfQwen25HalfBillionAre358M() throws Exception {
        // q 896x896, k and v 128x896, o 896x896, gate/up/down 3 x 4864x896, times 24 layers
        Qwen2Config c = new Qwen2Config(151936, 896, 4864, 24, 14, 2, 32768, 1e-6, 1e6, true, List.of(), "qwen2.5-0.5b");
        assertEquals(357_826_560L, ModelBench.layerMatrixParams(c));
    }

    @Test
    void targetIsRequiredAndChecked() {
        CliRun none = CliRun.of("bench");
        assertEquals(2, none.exitCode(), none.describe());
        CliRun unknown = CliRun.of("bench", "modle");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.err().contains("unknown target 'modle'"), unknown.describe());
        CliRun both = CliRun.of("bench", "model", "--quick", "--config", "x.json");
        assertEquals(2, both.exitCode(), both.describe());
    }
}
