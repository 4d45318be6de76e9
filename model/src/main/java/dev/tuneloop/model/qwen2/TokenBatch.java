package dev.tuneloop.model.qwen2;

import java.util.Arrays;

/**
 * A right-padded batch as Hugging Face passes it: {@code input_ids}, {@code attention_mask} (1 = real token) and
 * optional {@code labels} (-100 = no loss), each {@code (B, T)} row-major.
 */
public record TokenBatch(int batchSize, int seqLen, long[] inputIds, long[] attentionMask, long[] labels) {
    public static final long IGNORE_INDEX = -100;

    public TokenBatch {
        int n = batchSize * seqLen;
        if (batchSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch shape (" + batchSize + ", " + seqLen + ") must be positive");
        }
        check("input_ids", inputIds, n);
        check("attention_mask", attentionMask, n);
        if (labels != null) {
            check("labels", labels, n);
        }
    }

    /** A single unpadded row. */
    public static TokenBatch of(long[] ids) {
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        return new TokenBatch(1, ids.length, ids, mask, null);
    }

    /** Number of label positions that enter the loss after the causal shift ({@code labels[:, 1:] != -100}). */
    public int labelCount() {
        if (labels == null) {
            throw new IllegalStateException("this batch has no labels (built for inference)");
        }
        int count = 0;
        for (int b = 0; b < batchSize; b++) {
            for (int t = 1; t < seqLen; t++) {
                if (labels[b * seqLen + t] != IGNORE_INDEX) {
                    count++;
                }
            }
        }
        return count;
    }

    private static void check(String name, long[] a, int n) {
        if (a == null || a.length != n) {
            throw new IllegalArgumentException(name + " has " + (a == null ? "no" : a.length) + " values, expected " + n);
        }
    }
}
