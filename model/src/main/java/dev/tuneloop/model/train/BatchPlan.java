package dev.tuneloop.model.train;

import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.text.EncodedExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The order of micro-batches in an epoch, derived only from (seed, epoch) so a resumed run sees the same order without
 * saving any random state. Length-grouped like transformers' {@code group_by_length}: shuffle, cut into mega-batches
 * of 50 micro-batches, sort each by length (longest first) so micro-batches hold similar lengths, then shuffle the
 * micro-batches.
 */
final class BatchPlan {
    private static final int MEGA = 50;

    private BatchPlan() {}

    static List<int[]> epoch(int[] lengths, int batchSize, long seed, int epoch) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + epoch);
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        shuffle(order, random);
        List<int[]> batches = new ArrayList<>();
        for (int start = 0; start < order.length; start += batchSize * MEGA) {
            Integer[] mega = Arrays.copyOfRange(order, start, Math.min(order.length, start + batchSize * MEGA));
            Arrays.sort(mega, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
            for (int b = 0; b < mega.length; b += batchSize) {
                int[] batch = new int[Math.min(batchSize, mega.length - b)];
                for (int j = 0; j < batch.length; j++) {
                    batch[j] = mega[b + j];
                }
                batches.add(batch);
            }
        }
        int[][] shuffled = batches.toArray(new int[0][]);
        shuffle(shuffled, random);
        return Arrays.asList(shuffled);
    }

    /** Right-pads the examples to the longest one: pad id in {@code input_ids}, 0 in the mask, -100 in the labels. */
    static TokenBatch collate(List<EncodedExample> examples, long padId) {
        int t = examples.stream().mapToInt(EncodedExample::length).max().orElseThrow();
        int b = examples.size();
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] labels = new long[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, TokenBatch.IGNORE_INDEX);
        for (int r = 0; r < b; r++) {
            EncodedExample e = examples.get(r);
            System.arraycopy(e.inputIds(), 0, ids, r * t, e.length());
            System.arraycopy(e.labels(), 0, labels, r * t, e.length());
            Arrays.fill(mask, r * t, r * t + e.length(), 1);
        }
        return new TokenBatch(b, t, ids, mask, labels);
    }

    private static <T> void shuffle(T[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            T tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }
}
