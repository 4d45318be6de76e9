package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.NoGradManager;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** LoRA dropout masks: the right keep rate, kept values untouched, reproducible from the seed on any thread count. */
class LoraDropoutTest {
    private NoGradManager scope;
    private NDManager m;

    @BeforeEach
    void setUp() {
        scope = new NoGradManager();
        m = scope.manager();
    }

    @AfterEach
    void tearDown() {
        scope.close();
    }

    @Test
    void keepsEachElementWithProbabilityOneMinusPAndLeavesKeptValuesAsTheyAre() {
        int n = 1_000_003; // not a multiple of the chunk size, odd
        NDArray x = m.arange(1f, n + 1f).reshape(1, n);
        LoraDropout.seed(42);
        float[] out = LoraDropout.dropUnscaled(x, 0.05f).toFloatArray();
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (out[i] != 0) {
                assertEquals(i + 1f, out[i], "element " + i + " kept but changed");
                kept++;
            }
        }
        // Binomial(n, 0.95): standard deviation 218 elements; 6 sigma
        double rate = kept / (double) n;
        assertEquals(0.95, rate, 6 * Math.sqrt(0.95 * 0.05 / n), "keep rate " + rate);
        LoraDropout.seed(42);
        float[] high = LoraDropout.dropUnscaled(x, 0.5f).toFloatArray();
        long keptHalf = Arrays.stream(box(high)).filter(v -> v != 0).count();
        assertEquals(0.5, keptHalf / (double) n, 6 * Math.sqrt(0.25 / n), "keep rate at p = 0.5");
    }

    @Test
    void sameSeedSameMasksInOrderAndTheThreadCountDoesNotMatter() throws Exception {
        NDArray x = m.ones(new Shape(300, 997));
        LoraDropout.seed(7);
        float[] first = LoraDropout.dropUnscaled(x, 0.1f).toFloatArray();
        float[] second = LoraDropout.dropUnscaled(x, 0.1f).toFloatArray();
        assertFalse(Arrays.equals(first, second), "two draws after one seed differ");
        float[][] onOneThread = new ForkJoinPool(1).submit(() -> {
            boolean mode = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                LoraDropout.seed(7);
                return new float[][] {LoraDropout.dropUnscaled(x, 0.1f).toFloatArray(),
                        LoraDropout.dropUnscaled(x, 0.1f).toFloatArray()};
            } finally {
                JniUtils.setGradMode(mode);
            }
        }).get();
        assertArrayEquals(first, onOneThread[0], "the first draw after seed(7), on one worker thread");
        assertArrayEquals(second, onOneThread[1], "the second draw after seed(7), on one worker thread");
        LoraDropout.seed(8);
        assertFalse(Arrays.equals(first, LoraDropout.dropUnscaled(x, 0.1f).toFloatArray()), "another seed, other masks");
    }

    @Test
    void theLoraOutputIsUnbiasedLikeNnDropout() {
        // y = x W^T + dropout(x) A^T B^T * scaling: averaged over many masks, the LoRA term equals the one without
        // dropout (nn.Dropout scales kept inputs by 1 / (1 - p)); forgetting the rescaling would be 20 % off at p 0.2.
        int in = 64;
        int out = 8;
        LoraLinear linear = new LoraLinear(in, out, false);
        linear.weight().setArray(m.zeros(new Shape(out, in)));
        linear.attachLora(m.randomUniform(0f, 1f, new Shape(4, in)), m.randomUniform(0f, 1f, new Shape(out, 4)), 2f,
                0.2f, false);
        NDArray x = m.ones(new Shape(256, in));
        float expected = linear.forward(x, false).mean().getFloat();
        LoraDropout.seed(1);
        double sum = 0;
        int draws = 50;
        for (int i = 0; i < draws; i++) {
            sum += linear.forward(x, true).mean().getFloat();
        }
        double mean = sum / draws;
        assertTrue(Math.abs(mean / expected - 1) < 0.01, "mean LoRA output with dropout " + mean + ", without " + expected);
    }

    private static Float[] box(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
