package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** AdamW against the {@code torch.optim.AdamW} update rule, and what it leaves behind after a step. */
class AdamWTest {
    NDManager manager;
    NDArray weight;
    AdamW adamw;

    @BeforeEach
    void create() {
        manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        weight = manager.create(new float[] {0.5f, -1.0f, 2.0f});
        weight.setRequiresGradient(true);
        Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).build();
        p.setArray(weight);
        adamw = new AdamW(Map.of("w", p), 0.9, 0.999, 1e-8, 0.1, manager);
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** Accumulates d/dw sum(c * w) = c into the weight's gradient, with every temporary in a sub-manager. */
    void backward(float... c) {
        try (NDManager sub = manager.newSubManager();
                GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            collector.backward(sub.create(c).mul(weight).sum());
        }
    }

    float[] gradient() {
        try (NDArray g = weight.getGradient()) {
            return g.toFloatArray();
        }
    }

    @Test
    void twoStepsFollowTorchsUpdateRule() {
        double[] w = {0.5, -1.0, 2.0};
        double[] m = new double[3];
        double[] v = new double[3];
        float[][] grads = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.05f}};
        double lr = 0.01;
        for (int t = 1; t <= 2; t++) {
            backward(grads[t - 1]);
            adamw.step(lr);
            for (int i = 0; i < 3; i++) { // torch.optim.AdamW, amsgrad off
                double g = grads[t - 1][i];
                w[i] *= 1 - lr * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                w[i] -= lr / (1 - Math.pow(0.9, t)) * m[i] / denom;
            }
            float[] actual = weight.toFloatArray();
            for (int i = 0; i < 3; i++) {
                assertEquals(w[i], actual[i], 1e-6, "weight " + i + " after step " + t);
            }
            assertArrayEquals(new float[3], gradient(), "the step zeroes the gradient");
        }
        assertEquals(2, adamw.stepCount());
    }

    @Test
    void clippingScalesTheGlobalNormDown() {
        backward(3f, 4f, 0f);
        assertEquals(5.0, adamw.clipGradNorm(1.0), 1e-6, "the norm before clipping");
        float[] g = gradient();
        assertEquals(0.6, g[0], 1e-6);
        assertEquals(0.8, g[1], 1e-6);
        assertEquals(1.0, adamw.clipGradNorm(0), 1e-5, "norm 0 means: report only");
    }

    @Test
    void aStepLeavesNoArrayBehind() {
        backward(0.1f, 0.2f, 0.3f);
        adamw.clipGradNorm(1.0);
        adamw.step(0.01);
        int arrays = manager.getManagedArrays().size();
        for (int i = 0; i < 20; i++) {
            backward(0.1f, 0.2f, 0.3f);
            adamw.clipGradNorm(0.1);
            adamw.step(0.01);
            adamw.zeroGrad();
        }
        // before the fix every step left five gradient-sized arrays with the model's manager (gigabytes per run)
        assertEquals(arrays, manager.getManagedArrays().size(), "arrays held by the parameters' manager");
    }

    @Test
    void aNonFiniteGradientDoesNotSurviveTheStep() {
        backward(Float.NaN, Float.POSITIVE_INFINITY, 1f);
        adamw.step(0.01);
        backward(0.1f, 0.2f, 0.3f);
        float[] g = gradient();
        assertTrue(Float.isFinite(g[0]) && Float.isFinite(g[1]), "gradient after a NaN/inf step " + g[0] + ", " + g[1]);
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, g, 0f);
    }
}
