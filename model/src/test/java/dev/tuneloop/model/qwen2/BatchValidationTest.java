package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.lora.LoraAdapter;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Malformed batches are refused with the offending value and its position; odd but valid ones compute sanely. */
class BatchValidationTest {
    static Qwen2ForCausalLM lm;
    static TokenBatch golden;

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        golden = GoldenVariants.goldenBatch();
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    "message lacks '" + part + "': " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static TokenBatch withLabel(int row, int pos, long label) {
        long[] labels = golden.labels().clone();
        labels[row * golden.seqLen() + pos] = label;
        return new TokenBatch(golden.batchSize(), golden.seqLen(), golden.inputIds(), golden.attentionMask(), labels);
    }

    @Test
    void tokenBatchShapes() {
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> new TokenBatch(2, 3, new long[5], new long[6], null)), "input_ids has 5 values, expected 6");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> new TokenBatch(2, 3, new long[6], new long[6], new long[3])), "labels has 3 values, expected 6");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> new TokenBatch(2, 3, new long[6], null, null)), "attention_mask has no values");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> new TokenBatch(0, 3, new long[0], new long[0], null)), "(0, 3)");
    }

    @Test
    void trainingNeedsLabels() {
        TokenBatch unlabelled = new TokenBatch(golden.batchSize(), golden.seqLen(), golden.inputIds(),
                golden.attentionMask(), null);
        assertMessage(assertThrows(IllegalStateException.class, unlabelled::labelCount), "no labels");
    }

    @Test
    void maskValuesOtherThanZeroOrOneAreRejected() {
        long[] mask = {1, 1, 1, 1, 0, 1, 2, 0};
        assertMessage(assertThrows(IllegalArgumentException.class, () -> AttentionInputs.of(mask, 2, 0, 4)),
                "attention mask value 2", "row 1, position 2");
        long[] m = golden.attentionMask().clone();
        m[golden.seqLen() + 1] = -1;
        TokenBatch bad = new TokenBatch(golden.batchSize(), golden.seqLen(), golden.inputIds(), m, golden.labels());
        assertMessage(assertThrows(IllegalArgumentException.class, () -> lm.forwardBackward(bad, 1, false, 0)),
                "attention mask value -1", "row 1, position 1");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GoldenVariants.logits(lm, bad)),
                "attention mask value -1");
        assertFalse(JniUtils.isGradMode());
    }

    @Test
    void labelsOutsideTheVocabularyAreRejectedWithTheirPosition() throws Exception {
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), true);
        try {
            for (boolean recompute : new boolean[] {false, true}) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> lm.forwardBackward(withLabel(0, 9, 1024), 1, recompute, 0)),
                        "label 1024", "row 0, position 9", "[0, 1024)");
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> lm.forwardBackward(withLabel(1, 5, -1), 1, recompute, 0)),
                        "label -1", "row 1, position 5");
                assertFalse(JniUtils.isGradMode(), "grad mode restored after a failed pass");
            }
            // a failed pass leaves the model usable: the next one computes the golden loss
            double loss = lm.forwardBackward(golden, 1.0 / golden.labelCount(), false, 0);
            assertTrue(Double.isFinite(loss) && loss > 0, "loss after failures " + loss);
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void tokenIdsOutsideTheVocabularyFailCleanly() {
        long[] ids = golden.inputIds().clone();
        ids[3] = 5000;
        TokenBatch bad = new TokenBatch(golden.batchSize(), golden.seqLen(), ids, golden.attentionMask(),
                golden.labels());
        Exception e = assertThrows(IllegalArgumentException.class, () -> GoldenVariants.logits(lm, bad));
        assertMessage(e, "token id 5000 at row 0, position 3", "[0, 1024)");
        e = assertThrows(IllegalArgumentException.class, () -> lm.forwardBackward(bad, 1, true, 0));
        assertMessage(e, "token id 5000");
        ids[3] = -7;
        e = assertThrows(IllegalArgumentException.class, () -> new Generator(lm, List.of()).greedy(ids, 2));
        assertMessage(e, "token id -7 at row 0, position 3");
        assertFalse(JniUtils.isGradMode());
    }

    @Test
    void positionsCountRealTokensForLeftAndRightPadding() {
        // row 0 left-padded by 2, row 1 right-padded by 1; 2 cached positions, 3 new
        long[] mask = {0, 0, 1, 1, 1, 1, 1, 1, 1, 0};
        AttentionInputs in = AttentionInputs.of(mask, 2, 2, 3);
        assertArrayEquals(new long[] {0, 1, 2, 2, 3, 3}, in.positionIds());
        float[] m = in.additiveMask(); // (B=2, T=3, S=5)
        float no = AttentionInputs.MASKED;
        assertArrayEquals(new float[] {no, no, 0, no, no}, Arrays.copyOfRange(m, 0, 5), "row 0, query 2");
        assertArrayEquals(new float[] {no, no, 0, 0, 0}, Arrays.copyOfRange(m, 10, 15), "row 0, query 4");
        assertArrayEquals(new float[] {0, 0, 0, 0, no}, Arrays.copyOfRange(m, 25, 30), "row 1, padded query");
    }

    @Test
    void fullyPaddedRowGivesFiniteLogitsAndLeavesTheOtherRowUnchanged() {
        int t = golden.seqLen();
        long[] mask = golden.attentionMask().clone();
        Arrays.fill(mask, t, 2 * t, 0);
        TokenBatch batch = new TokenBatch(2, t, golden.inputIds(), mask, null);
        float[] logits = GoldenVariants.logits(lm, batch);
        for (float v : logits) {
            assertTrue(Float.isFinite(v), "logit " + v);
        }
        float[] normal = GoldenVariants.logits(lm, golden);
        int vocab = lm.config().vocabSize();
        double d = 0;
        for (int i = 0; i < t * vocab; i++) {
            d = Math.max(d, Math.abs(normal[i] - logits[i]));
        }
        assertTrue(d <= 1e-5, "row 0 logits changed by " + d);
        assertEquals(0, new TokenBatch(1, 3, new long[] {1, 2, 3}, new long[] {1, 1, 1},
                new long[] {5, -100, -100}).labelCount(), "labels[:, 0] never enter the loss (the shift)");
    }
}
