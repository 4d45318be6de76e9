package dev.tuneloop.model.qwen2;

/**
 * Position ids and the additive attention mask for {@code T} new tokens after {@code past} cached ones, from a padding
 * mask over all {@code past + T} positions. Works for right padding (training batches) and left padding (batched
 * generation) alike: a token's position is the number of real tokens before it in its row (HF's
 * {@code cumsum(attention_mask) - 1}), and a query attends to real keys at or before its own index (causal).
 */
record AttentionInputs(long[] positionIds, float[] additiveMask) {
    /** Added to the scores of masked keys. Finite, so a row with no visible key gives no NaN. */
    static final float MASKED = -1e9f;

    static AttentionInputs of(long[] fullMask, int batch, int past, int t) {
        int s = past + t;
        if (fullMask.length != batch * s) {
            throw new IllegalArgumentException("attention mask has " + fullMask.length + " values, expected batch "
                    + batch + " x " + s + " positions");
        }
        long[] positions = new long[batch * t];
        float[] mask = new float[batch * t * s];
        for (int b = 0; b < batch; b++) {
            long seen = 0;
            for (int j = 0; j < s; j++) {
                long m = fullMask[b * s + j];
                if (m != 0 && m != 1) {
                    throw new IllegalArgumentException("attention mask value " + m + " at row " + b + ", position " + j
                            + " is not 0 or 1");
                }
                seen += m;
                if (j >= past) {
                    positions[b * t + (j - past)] = Math.max(0, seen - 1);
                }
            }
            for (int i = 0; i < t; i++) {
                int query = past + i;
                int base = (b * t + i) * s;
                for (int j = 0; j < s; j++) {
                    boolean visible = j <= query && fullMask[b * s + j] == 1;
                    mask[base + j] = visible ? 0f : MASKED;
                }
            }
        }
        return new AttentionInputs(positions, mask);
    }
}
