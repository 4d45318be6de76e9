package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.lora.LoraAdapter;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Logits, losses, LoRA gradients and greedy ids against the float64 reference, within golden.json's tolerances. */
class GoldenParityTest {
    static GoldenFixture golden;
    static Qwen2ForCausalLM lm;

    @BeforeAll
    static void load() throws Exception {
        golden = new GoldenFixture();
        lm = Qwen2Weights.load(golden.dir, Device.cpu());
    }

    @AfterAll
    static void close() throws Exception {
        lm.close();
        golden.tensors.close();
    }

    @Test
    void baseLogitsAndLossMatchReference() throws Exception {
        LoraAdapter.detach(lm);
        checkLogitsAndLoss("logits_base", golden.json.get("loss_base").asDouble());
    }

    @Test
    void loraLogitsAndLossMatchReference() throws Exception {
        LoraAdapter.load(lm, golden.adapter, false);
        try {
            assertEquals(2.0, lm.projections().get("model.layers.0.self_attn.q_proj").scaling(), 0.0, "alpha / r");
            checkLogitsAndLoss("logits_lora", golden.json.get("loss_lora").asDouble());
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void loraGradientsMatchReferenceForEveryAdapterTensor() throws Exception {
        LoraAdapter.load(lm, golden.adapter, true);
        try {
            // the fixture's adapter says lora_dropout 0.05; gradients are defined with dropout off
            lm.projections().values().forEach(p -> {
                if (p.hasLora()) {
                    p.setDropout(0f);
                }
            });
            TokenBatch batch = golden.batch;
            double lossSum = lm.forwardBackward(batch, 1.0 / batch.labelCount(), false, 0);
            assertEquals(golden.json.get("loss_lora").asDouble(), lossSum / batch.labelCount(), golden.tolerance("loss_abs"));
            Map<String, Parameter> params = LoraAdapter.parameters(lm);
            assertEquals(golden.tensors.tensors().keySet().stream().filter(k -> k.startsWith("grad.")).count(),
                    params.size(), "one gradient per adapter tensor");
            double tol = golden.tolerance("grad_rel_l2");
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                float[] want = golden.tensors.floats("grad." + e.getKey());
                float[] got;
                try (NDArray g = e.getValue().getArray().getGradient()) {
                    got = g.toFloatArray();
                }
                double rel = relL2(got, want);
                assertTrue(rel <= tol, e.getKey() + ": relative L2 error " + rel + " > " + tol
                        + " (first values got " + got[0] + ", " + got[1] + " want " + want[0] + ", " + want[1] + ")");
            }
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void greedyGenerationsMatchReferenceCachedAndUncached() throws Exception {
        long[] prompt = golden.ids("greedy_prompt_ids");
        Generator gen = new Generator(lm, java.util.List.of()); // the reference generates exactly 10 tokens
        LoraAdapter.detach(lm);
        assertArrayEquals(golden.ids("greedy_new_ids_base"), gen.greedy(prompt, 10));
        assertArrayEquals(golden.ids("greedy_new_ids_base"), gen.greedyUncached(prompt, 10));
        LoraAdapter.load(lm, golden.adapter, false);
        try {
            assertArrayEquals(golden.ids("greedy_new_ids_lora"), gen.greedy(prompt, 10));
            assertArrayEquals(golden.ids("greedy_new_ids_lora"), gen.greedyUncached(prompt, 10));
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    private void checkLogitsAndLoss(String logitsKey, double wantLoss) throws Exception {
        TokenBatch batch = golden.batch;
        float[] want = golden.tensors.floats(logitsKey);
        int vocab = lm.config().vocabSize();
        try (NDManager m = lm.manager().newSubManager()) {
            NDArray ids = m.create(batch.inputIds(), new Shape(batch.batchSize(), batch.seqLen()));
            NDArray hidden = lm.hidden(ids, batch.attentionMask(), null, false);
            float[] got = lm.logits(hidden).toFloatArray();
            double maxDiff = 0;
            int valid = 0;
            for (int pos = 0; pos < batch.batchSize() * batch.seqLen(); pos++) {
                if (batch.attentionMask()[pos] == 0) {
                    continue; // padded positions are unspecified
                }
                valid++;
                for (int v = 0; v < vocab; v++) {
                    maxDiff = Math.max(maxDiff, Math.abs(got[pos * vocab + v] - want[pos * vocab + v]));
                }
            }
            assertTrue(valid > 12, "fixture has valid positions in both rows");
            assertTrue(maxDiff <= golden.tolerance("logits_abs"), logitsKey + ": max |diff| " + maxDiff + " > "
                    + golden.tolerance("logits_abs"));
            double loss = lm.lossSum(hidden, batch).getFloat() / batch.labelCount();
            assertEquals(wantLoss, loss, golden.tolerance("loss_abs"), "loss");
        }
    }

    static double relL2(float[] got, float[] want) {
        assertEquals(want.length, got.length, "gradient size");
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
