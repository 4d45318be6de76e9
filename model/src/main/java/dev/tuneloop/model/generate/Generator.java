package dev.tuneloop.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.qwen2.KvCache;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Greedy decoding with a KV cache, stopping at any of the model's EOS ids or after {@code maxNewTokens}. Batches are
 * left-padded so every row's next token sits in the last column. DJL's TextGenerator is not used: it stops only on
 * GPT-2's EOS id.
 */
public final class Generator {
    private final Qwen2ForCausalLM lm;
    private final Set<Long> eosIds;

    public Generator(Qwen2ForCausalLM lm, List<Long> eosIds) {
        this.lm = lm;
        this.eosIds = Set.copyOf(eosIds);
    }

    /** New ids after {@code prompt}, including the EOS id that stopped generation, if any. */
    public long[] greedy(long[] prompt, int maxNewTokens) {
        return greedy(List.of(prompt), maxNewTokens, false).get(0);
    }

    /**
     * Greedy continuation of each prompt (batched in one forward pass per step).
     *
     * @param ignoreEos generate exactly {@code maxNewTokens} (benchmarks)
     */
    public List<long[]> greedy(List<long[]> prompts, int maxNewTokens, boolean ignoreEos) {
        if (prompts.isEmpty() || maxNewTokens < 0) {
            throw new IllegalArgumentException(prompts.isEmpty() ? "no prompts to continue"
                    : "maxNewTokens " + maxNewTokens + " must be >= 0");
        }
        int batch = prompts.size();
        int promptLen = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (promptLen == 0 || prompts.stream().anyMatch(p -> p.length == 0)) {
            throw new IllegalArgumentException("every prompt needs at least one token");
        }
        int capacity = promptLen + maxNewTokens;
        long[] mask = new long[batch * capacity]; // (B, capacity), filled as positions are used
        long[] ids = new long[batch * promptLen];
        for (int b = 0; b < batch; b++) {
            long[] p = prompts.get(b);
            int pad = promptLen - p.length; // left padding
            System.arraycopy(p, 0, ids, b * promptLen + pad, p.length);
            for (int j = pad; j < promptLen; j++) {
                mask[b * capacity + j] = 1;
            }
        }
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[batch];
        for (int b = 0; b < batch; b++) {
            out.add(new ArrayList<>());
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager m = lm.manager().newSubManager();
                KvCache cache = new KvCache(m, lm.config(), batch, capacity)) {
            NDArray input = m.create(ids, new Shape(batch, promptLen));
            int length = promptLen;
            for (int step = 0; step < maxNewTokens; step++) {
                long[] next;
                try (NDManager s = m.newSubManager()) {
                    input.attach(s);
                    NDArray hidden = lm.hidden(input, prefix(mask, batch, capacity, length), cache, false);
                    NDArray last = hidden.get(":, -1, :"); // (B, H)
                    next = lm.logits(last).argMax(1).toLongArray(); // (B)
                }
                boolean all = true;
                for (int b = 0; b < batch; b++) {
                    if (!done[b]) {
                        out.get(b).add(next[b]);
                        done[b] = !ignoreEos && eosIds.contains(next[b]);
                    }
                    all &= done[b];
                    mask[b * capacity + length] = 1;
                }
                length++;
                if (all) {
                    break;
                }
                input = m.create(next, new Shape(batch, 1));
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        List<long[]> result = new ArrayList<>();
        for (List<Long> row : out) {
            result.add(row.stream().mapToLong(Long::longValue).toArray());
        }
        return result;
    }

    /** Reference path without a cache: the whole sequence is recomputed for every new token. */
    public long[] greedyUncached(long[] prompt, int maxNewTokens) {
        List<Long> seq = new ArrayList<>();
        for (long id : prompt) {
            seq.add(id);
        }
        List<Long> generated = new ArrayList<>();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (int step = 0; step < maxNewTokens; step++) {
                long next;
                try (NDManager m = lm.manager().newSubManager()) {
                    long[] ids = seq.stream().mapToLong(Long::longValue).toArray();
                    long[] mask = new long[ids.length];
                    Arrays.fill(mask, 1);
                    NDArray hidden = lm.hidden(m.create(ids, new Shape(1, ids.length)), mask, null, false);
                    next = lm.logits(hidden.get(":, -1, :")).argMax(1).toLongArray()[0];
                }
                generated.add(next);
                seq.add(next);
                if (eosIds.contains(next)) {
                    break;
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return generated.stream().mapToLong(Long::longValue).toArray();
    }

    private static long[] prefix(long[] mask, int batch, int capacity, int length) {
        long[] out = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(mask, b * capacity, out, b * length, length);
        }
        return out;
    }
}
