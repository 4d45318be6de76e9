package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Activation recomputation must give the gradients of the plain backward pass, also with LoRA dropout on: a recomputed
 * layer has to draw the same dropout masks as its first forward pass.
 */
class RecomputeTest {
    static final float DROPOUT = 0.1f;

    static Qwen2ForCausalLM lm;
    static GoldenFixture golden;

    /** Loss sum and the gradient of every LoRA tensor after one forward + backward pass from fresh gradients. */
    record Result(double lossSum, Map<String, float[]> grads) {}

    @BeforeAll
    static void load() throws Exception {
        golden = new GoldenFixture();
        lm = Qwen2Weights.load(golden.dir, Device.cpu());
    }

    @AfterAll
    static void close() {
        lm.close();
        golden.tensors.close();
    }

    /** Loads the adapter afresh (new arrays, so no gradient accumulated from an earlier run) and runs one pass. */
    static Result run(boolean recompute, long seed, float dropout) throws Exception {
        LoraAdapter.load(lm, golden.adapter, true);
        try {
            for (LoraLinear p : lm.projections().values()) {
                p.setDropout(dropout);
            }
            TokenBatch batch = golden.batch;
            double loss = lm.forwardBackward(batch, 1.0 / batch.labelCount(), recompute, seed);
            assertFalse(JniUtils.isGradMode(), "grad mode is off again after forwardBackward");
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : LoraAdapter.parameters(lm).entrySet()) {
                try (NDArray g = e.getValue().getArray().getGradient()) {
                    grads.put(e.getKey(), g.toFloatArray());
                }
            }
            return new Result(loss, grads);
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void recomputedGradientsEqualPlainOnesWithDropout() throws Exception {
        Result plain = run(false, 7, DROPOUT);
        Result recomputed = run(true, 7, DROPOUT);
        assertEquals(plain.lossSum(), recomputed.lossSum(), 1e-6 * Math.abs(plain.lossSum()), "loss sum");
        assertEquals(28, plain.grads().size());
        for (String key : plain.grads().keySet()) {
            double rel = GoldenParityTest.relL2(recomputed.grads().get(key), plain.grads().get(key));
            assertTrue(rel <= 1e-5, key + ": recomputed vs plain gradient, relative L2 " + rel);
        }
        Result again = run(false, 7, DROPOUT);
        assertEquals(plain.lossSum(), again.lossSum(), 0.0, "same seed, same masks, same loss");
    }

    @Test
    void dropoutIsActiveAndFollowsTheSeed() throws Exception {
        Result seven = run(true, 7, DROPOUT);
        Result eight = run(true, 8, DROPOUT);
        Result off = run(true, 7, 0f);
        assertTrue(Math.abs(seven.lossSum() - eight.lossSum()) > 1e-4 * Math.abs(seven.lossSum()),
                "different seeds draw different masks: loss " + seven.lossSum() + " vs " + eight.lossSum());
        for (String key : seven.grads().keySet()) {
            double bySeed = GoldenParityTest.relL2(eight.grads().get(key), seven.grads().get(key));
            double byDropout = GoldenParityTest.relL2(off.grads().get(key), seven.grads().get(key));
            assertTrue(bySeed > 1e-3, key + ": seeds 7 and 8 give gradients within relative L2 " + bySeed);
            assertTrue(byDropout > 1e-3, key + ": dropout 0.1 vs off within relative L2 " + byDropout);
        }
    }

    @Test
    void recomputedGradientsMatchTheReferenceWithDropoutOff() throws Exception {
        Result r = run(true, 0, 0f);
        TokenBatch batch = golden.batch;
        assertEquals(golden.json.get("loss_lora").asDouble(), r.lossSum() / batch.labelCount(),
                golden.tolerance("loss_abs"));
        double tol = golden.tolerance("grad_rel_l2");
        for (Map.Entry<String, float[]> e : r.grads().entrySet()) {
            double rel = GoldenParityTest.relL2(e.getValue(), golden.tensors.floats("grad." + e.getKey()));
            assertTrue(rel <= tol, e.getKey() + ": relative L2 error " + rel + " > " + tol);
        }
    }

    @Test
    void gradientsAccumulateAcrossCallsUntilZeroed() throws Exception {
        LoraAdapter.load(lm, golden.adapter, true);
        try {
            lm.projections().values().forEach(p -> p.setDropout(0f));
            TokenBatch batch = golden.batch;
            String key = LoraAdapter.parameters(lm).keySet().iterator().next();
            Parameter param = LoraAdapter.parameters(lm).get(key);
            lm.forwardBackward(batch, 1.0, true, 0);
            float[] once = gradient(param);
            lm.forwardBackward(batch, 1.0, false, 0);
            float[] twice = gradient(param);
            for (int i = 0; i < once.length; i++) {
                assertEquals(2 * once[i], twice[i], 1e-5 * Math.abs(once[i]) + 1e-9, key + "[" + i + "]");
            }
            try (NDArray g = param.getArray().getGradient()) {
                g.subi(g);
            }
            lm.forwardBackward(batch, 1.0, true, 0);
            assertTrue(GoldenParityTest.relL2(gradient(param), once) <= 1e-5, "zeroed, then one pass");
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    private static float[] gradient(Parameter p) {
        try (NDArray g = p.getArray().getGradient()) {
            return g.toFloatArray();
        }
    }
}
