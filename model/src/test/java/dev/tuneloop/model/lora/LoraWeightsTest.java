package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An adapter read off the model and attached later computes exactly what {@link LoraAdapter#load} computes. */
class LoraWeightsTest {
    static Qwen2ForCausalLM lm;
    static TokenBatch batch;

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        batch = GoldenVariants.goldenBatch();
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void readLeavesTheModelAloneAndAttachEqualsLoadAgainAndAgain() throws Exception {
        float[] base = GoldenVariants.logits(lm, batch);
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        float[] loaded = GoldenVariants.logits(lm, batch);
        LoraAdapter.detach(lm);

        LoraWeights weights = LoraAdapter.read(lm, GoldenVariants.adapterDir());
        assertTrue(LoraAdapter.parameters(lm).isEmpty(), "read must not attach anything");
        assertEquals(-1, GoldenVariants.firstBitDifference(base, GoldenVariants.logits(lm, batch)));
        // golden adapter: r 4 on all seven projections of 2 layers (hidden 64)
        assertEquals(14, weights.modules().size());
        assertEquals(weights.parameterCount() * 4, weights.bytes());

        for (int round = 0; round < 2; round++) { // attaching copies: the same weights attach twice
            LoraAdapter.attach(lm, weights, false);
            int d = GoldenVariants.firstBitDifference(loaded, GoldenVariants.logits(lm, batch));
            assertEquals(-1, d, "round " + round + ": attached vs loaded logits differ at " + d);
            LoraAdapter.detach(lm);
            assertEquals(-1, GoldenVariants.firstBitDifference(base, GoldenVariants.logits(lm, batch)));
        }
    }

    @Test
    void theInPlaceInferencePathEqualsTheAutogradPathBitForBit() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        boolean gradMode = JniUtils.isGradMode();
        try {
            JniUtils.setGradMode(true); // LoraLinear keeps every temporary (autograd may need them)
            float[] autograd = GoldenVariants.logits(lm, batch);
            JniUtils.setGradMode(false); // inference: adds in place and frees the temporaries at once
            float[] inference = GoldenVariants.logits(lm, batch);
            int d = GoldenVariants.firstBitDifference(autograd, inference);
            assertEquals(-1, d, "inference vs autograd logits differ at " + d);
        } finally {
            JniUtils.setGradMode(gradMode);
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void aMisfitIsRefusedBeforeTheAttachedAdapterChanges() throws Exception {
        LoraWeights weights = LoraAdapter.read(lm, GoldenVariants.adapterDir());
        LoraAdapter.attach(lm, weights, false);
        float[] before = GoldenVariants.logits(lm, batch);
        try {
            Map<String, LoraWeights.Module> modules = new LinkedHashMap<>(weights.modules());
            String first = modules.keySet().iterator().next();
            LoraWeights.Module m = modules.get(first);
            modules.put("model.layers.9.mlp.up_proj", m);
            LoraWeights unknown = new LoraWeights(Path.of("elsewhere"), weights.config(), modules);
            var e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.attach(lm, unknown, false));
            assertTrue(e.getMessage().contains("model.layers.9.mlp.up_proj"), e.getMessage());

            modules.remove("model.layers.9.mlp.up_proj");
            modules.put(first, new LoraWeights.Module(m.rank(), m.inFeatures() + 1, m.outFeatures(), m.scaling(),
                    new float[m.rank() * (m.inFeatures() + 1)], m.b()));
            LoraWeights wide = new LoraWeights(Path.of("elsewhere"), weights.config(), modules);
            e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.attach(lm, wide, false));
            assertTrue(e.getMessage().contains(first) && e.getMessage().contains("in " + (m.inFeatures() + 1)),
                    e.getMessage());
            assertEquals(-1, GoldenVariants.firstBitDifference(before, GoldenVariants.logits(lm, batch)),
                    "a refused attach leaves the attached adapter as it was");
        } finally {
            LoraAdapter.detach(lm);
        }
    }
}
