package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Merging folds the adapter into the base weights for serving; it must not change what the model computes. */
class MergeTest {
    Qwen2ForCausalLM lm;
    TokenBatch batch;
    float[] baseLogits;
    Map<String, float[]> baseWeights;

    @BeforeEach
    void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        batch = GoldenVariants.goldenBatch();
        baseLogits = GoldenVariants.logits(lm, batch);
        baseWeights = weights(lm);
    }

    @AfterEach
    void close() {
        lm.close();
    }

    @Test
    void mergedLogitsEqualUnmergedAndUnmergeRestoresBaseWeights() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        float[] unmerged = GoldenVariants.logits(lm, batch);
        assertTrue(GoldenVariants.maxAbsDiff(unmerged, baseLogits, batch) > 0.01, "the adapter changes the logits");

        LoraAdapter.merge(lm);
        assertTrue(lm.projections().values().stream().allMatch(LoraLinear::isMerged));
        assertTrue(maxWeightDiff(lm) > 1e-3, "merging changed the base weights");
        double merged = GoldenVariants.maxAbsDiff(GoldenVariants.logits(lm, batch), unmerged, batch);
        assertTrue(merged <= 1e-5, "merged vs unmerged logits: max |diff| " + merged);
        LoraAdapter.merge(lm); // merging twice must not add the delta twice
        merged = GoldenVariants.maxAbsDiff(GoldenVariants.logits(lm, batch), unmerged, batch);
        assertTrue(merged <= 1e-5, "after a second merge: max |diff| " + merged);

        LoraAdapter.unmerge(lm);
        assertFalse(lm.projections().values().stream().anyMatch(LoraLinear::isMerged));
        double w = maxWeightDiff(lm);
        assertTrue(w <= 1e-6, "unmerge restores the base weights: max |diff| " + w);
        double back = GoldenVariants.maxAbsDiff(GoldenVariants.logits(lm, batch), unmerged, batch);
        assertTrue(back <= 1e-5, "unmerged again vs unmerged logits: max |diff| " + back);
    }

    @Test
    void detachReturnsExactlyToTheBaseModel() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        LoraAdapter.detach(lm);
        assertTrue(LoraAdapter.parameters(lm).isEmpty());
        assertEquals(-1, GoldenVariants.firstBitDifference(baseLogits, GoldenVariants.logits(lm, batch)),
                "logits after load + detach are the base model's, bit for bit");
    }

    @Test
    void detachingAMergedAdapterUnmergesItFirst() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        LoraAdapter.merge(lm);
        LoraAdapter.detach(lm);
        assertTrue(lm.projections().values().stream().noneMatch(p -> p.hasLora() || p.isMerged()));
        double w = maxWeightDiff(lm);
        assertTrue(w <= 1e-6, "base weights after merge + detach: max |diff| " + w);
        double l = GoldenVariants.maxAbsDiff(GoldenVariants.logits(lm, batch), baseLogits, batch);
        assertTrue(l <= 1e-5, "base logits after merge + detach: max |diff| " + l);
    }

    @Test
    void loadingAnAdapterOverAMergedOneStartsFromTheBaseWeights() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        float[] unmerged = GoldenVariants.logits(lm, batch);
        LoraAdapter.merge(lm);
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        double l = GoldenVariants.maxAbsDiff(GoldenVariants.logits(lm, batch), unmerged, batch);
        assertTrue(l <= 1e-5, "adapter loaded over its merged self: max |diff| " + l + " (delta applied twice?)");
        LoraAdapter.detach(lm);
    }

    private static Map<String, float[]> weights(Qwen2ForCausalLM lm) {
        Map<String, float[]> out = new LinkedHashMap<>();
        lm.namedParameters().forEach((name, p) -> out.put(name, p.getArray().toFloatArray()));
        return out;
    }

    private double maxWeightDiff(Qwen2ForCausalLM lm) {
        double max = 0;
        for (Map.Entry<String, float[]> e : weights(lm).entrySet()) {
            float[] base = baseWeights.get(e.getKey());
            for (int i = 0; i < base.length; i++) {
                max = Math.max(max, Math.abs(e.getValue()[i] - base[i]));
            }
        }
        return max;
    }
}
