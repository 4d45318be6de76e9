package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.train.ServingPrompt;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Swapping keeps the adapter unmerged: the base weights are never written, only one adapter's LoRA arrays are on the
 * model at a time and the swapped-out ones are freed. Resident memory is printed for the report, not asserted (in a
 * JVM shared with other tests it moves by tens of MB for unrelated reasons).
 */
class SwapMemoryTest {

    @TempDir
    Path tmp;

    @Test
    void swapsLeaveTheBaseWeightsUntouchedAndFreeTheSwappedOutAdapter() throws Exception {
        TestModels.Models models = TestModels.get();
        // r 64 on all seven projections (573 KB each): large enough for a leak to show in the printed RSS
        LoraConfig large = LoraConfig.of(64, 128, 0.0, LoraConfig.ALL_MODULES);
        Path dirA = TestModels.adapter(models.modelDir(), tmp.resolve("a"), 11, null, large);
        Path dirB = TestModels.adapter(models.modelDir(), tmp.resolve("b"), 12, null, large);
        try (QaModel qa = QaModel.open(models.modelDir(), Device.cpu());
                Batcher batcher = new Batcher(qa.lm(), List.of(), new Batcher.Settings(4, Duration.ZERO, 16, 100_000),
                        new SimpleMeterRegistry())) {
            Map<String, float[]> baseWeights = new LinkedHashMap<>();
            long baseBytes = 0;
            for (var p : qa.lm().namedParameters().entrySet()) {
                baseWeights.put(p.getKey(), p.getValue().getArray().toFloatArray());
                baseBytes += p.getValue().getArray().size() * 4;
            }
            ServedAdapter a = snapshot(qa, dirA, 1);
            ServedAdapter b = snapshot(qa, dirB, 2);
            long[] prompt = qa.tokenizer().encode("Which river flows through Paris?");
            long rssWarm = 0;
            int rounds = 60;
            List<NDArray> previous = List.of();
            for (int round = 0; round < rounds; round++) {
                for (ServedAdapter s : List.of(a, b)) {
                    batcher.submit(prompt, 4, Sampling.GREEDY, s, null).result().get(30, TimeUnit.SECONDS);
                    List<NDArray> attached = LoraAdapter.parameters(qa.lm()).values().stream()
                            .map(Parameter::getArray).toList();
                    assertEquals(s.weights().modules().size() * 2, attached.size(),
                            "only the batch's adapter is on the model");
                    for (NDArray old : previous) {
                        assertTrue(old.isReleased(), "the swapped-out adapter's native arrays are freed");
                    }
                    previous = attached;
                }
                if (round == 4) {
                    System.gc();
                    rssWarm = rssBytes();
                }
            }
            System.gc();
            long rssEnd = rssBytes();
            for (var p : qa.lm().namedParameters().entrySet()) {
                assertArrayEquals(baseWeights.get(p.getKey()), p.getValue().getArray().toFloatArray(),
                        p.getKey() + " changed: the adapter must never be merged into the base weights");
            }
            System.out.printf("swap memory: base weights %.1f MB, adapter A %.1f KB, B %.1f KB; RSS after 5 rounds"
                    + " %.1f MB, after %d rounds (%d swaps) %.1f MB (%+.1f MB)%n", baseBytes / 1e6,
                    a.weights().bytes() / 1e3, b.weights().bytes() / 1e3, rssWarm / 1e6, rounds, rounds * 2,
                    rssEnd / 1e6, (rssEnd - rssWarm) / 1e6);
        }
    }

    private static ServedAdapter snapshot(QaModel qa, Path dir, long generation) throws IOException {
        return new ServedAdapter(LoraAdapter.read(qa.lm(), dir), ServingPrompt.forAdapter(dir),
                TestModels.fakePromotion("qwen-squad", generation), "run-" + generation, Instant.now());
    }

    /** VmRSS of this process (Linux). */
    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("/proc/self/status has no VmRSS line");
    }
}
