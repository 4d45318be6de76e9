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
import java.util.SplittableRandom;

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
        List<Row> rows = new ArrayList<>();
        for (long[] prompt : prompts) {
            rows.add(new Row(prompt, maxNewTokens, Sampling.GREEDY));
        }
        return generate(rows, ignoreEos, (row, token) -> true);
    }

    /**
     * One prompt of a {@link #generate} batch with its own token limit and sampling.
     *
     * @param prompt at least one token
     */
    public record Row(long[] prompt, int maxNewTokens, Sampling sampling) {
        public Row {
            if (prompt == null || prompt.length == 0) {
                throw new IllegalArgumentException("every prompt needs at least one token");
            }
            if (maxNewTokens < 0) {
                throw new IllegalArgumentException("maxNewTokens " + maxNewTokens + " must be >= 0");
            }
            if (sampling == null) {
                throw new IllegalArgumentException("sampling must not be null (Sampling.GREEDY for arg max)");
            }
        }
    }

    /** Sees every new token as it is chosen, on the generating thread. */
    @FunctionalInterface
    public interface TokenListener {
        /** @return false to end this row after {@code token} (a stop sequence was seen, the client went away) */
        boolean onToken(int row, long token);
    }

    /**
     * Continues every row in one batch (one forward pass per step, left-padded, KV-cached). A row ends after an EOS
     * id (included, unless {@code ignoreEos}), after its own {@code maxNewTokens}, or when the listener says so; the
     * batch runs until every row has ended.
     *
     * @return the new ids of each row, in row order
     */
    public List<long[]> generate(List<Row> rows, boolean ignoreEos, TokenListener listener) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no prompts to continue");
        }
        int batch = rows.size();
        int promptLen = rows.stream().mapToInt(r -> r.prompt().length).max().orElse(0);
        int maxNew = rows.stream().mapToInt(Row::maxNewTokens).max().orElse(0);
        int capacity = promptLen + maxNew;
        long[] mask = new long[batch * capacity]; // (B, capacity), filled as positions are used
        long[] ids = new long[batch * promptLen];
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[batch];
        SplittableRandom[] random = new SplittableRandom[batch];
        boolean anySampled = false;
        for (int b = 0; b < batch; b++) {
            Row row = rows.get(b);
            long[] p = row.prompt();
            int pad = promptLen - p.length; // left padding
            System.arraycopy(p, 0, ids, b * promptLen + pad, p.length);
            for (int j = pad; j < promptLen; j++) {
                mask[b * capacity + j] = 1;
            }
            out.add(new ArrayList<>());
            done[b] = row.maxNewTokens() == 0;
            if (!row.sampling().greedy()) {
                random[b] = new SplittableRandom(row.sampling().seed());
                anySampled = true;
            }
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager m = lm.manager().newSubManager();
                KvCache cache = new KvCache(m, lm.config(), batch, capacity)) {
            NDArray input = m.create(ids, new Shape(batch, promptLen));
            int length = promptLen;
            for (int step = 0; step < maxNew && !allTrue(done); step++) {
                long[] next;
                try (NDManager s = m.newSubManager()) {
                    input.attach(s);
                    NDArray hidden = lm.hidden(input, prefix(mask, batch, capacity, length), cache, false);
                    NDArray logits = lastLogits(hidden.get(":, -1, :")); // (B, V)
                    next = logits.argMax(1).toLongArray(); // (B)
                    if (anySampled) {
                        for (int b = 0; b < batch; b++) {
                            if (random[b] != null && !done[b]) {
                                next[b] = sample(logits.get(b), rows.get(b).sampling(), random[b]);
                            }
                        }
                    }
                }
                for (int b = 0; b < batch; b++) {
                    if (!done[b]) {
                        out.get(b).add(next[b]);
                        boolean more = listener.onToken(b, next[b]);
                        done[b] = !more || (!ignoreEos && eosIds.contains(next[b]))
                                || out.get(b).size() >= rows.get(b).maxNewTokens();
                    }
                    mask[b * capacity + length] = 1;
                }
                length++;
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

    /**
     * The head on the last positions, (B, H) → (B, V). With several rows it is computed as (W · xᵀ)ᵀ, the (V, H)
     * head weight as the left operand: for this skinny product the kernel ran 1.6-2× faster than x · Wᵀ at B = 8 on
     * Qwen2.5-0.5B's 151,936 × 896 head, and the same at B = 1 (docs/benchmarks.md, "bench serve").
     */
    private NDArray lastLogits(NDArray last) {
        if (last.getShape().get(0) == 1) {
            return lm.logits(last);
        }
        NDArray product = lm.headWeight().matMul(last.transpose()); // (V, B), on the weight's manager
        product.attach(last.getManager()); // freed with the step, not kept with the model
        return product.transpose();
    }

    /** Draws from {@code softmax(logits / T)} cut to the top-p nucleus; {@code logits} is (V). */
    private static long sample(NDArray logits, Sampling sampling, SplittableRandom random) {
        NDArray probs = logits.div(sampling.temperature()).softmax(0);
        NDArray order = probs.argSort(0, false); // most likely first
        long[] index = order.toLongArray();
        float[] p = probs.toFloatArray();
        double kept = 0;
        int n = 0;
        while (n < index.length && (n == 0 || kept < sampling.topP())) { // keep the token that crosses top_p
            kept += p[(int) index[n++]];
        }
        double u = random.nextDouble() * kept;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += p[(int) index[i]];
            if (u < sum) {
                return index[i];
            }
        }
        return index[n - 1];
    }

    private static boolean allTrue(boolean[] flags) {
        for (boolean f : flags) {
            if (!f) {
                return false;
            }
        }
        return true;
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
