package dev.tuneloop.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * PEFT's {@code lora_dropout} ({@code nn.Dropout}: each input element kept with probability {@code 1 - p}), with the
 * keep-masks drawn in Java. PyTorch's CPU {@code bernoulli_} draws one mt19937 double per element on one thread (its
 * parallel MKL path is taken on Intel CPUs only): on the AMD benchmark machine it took 1.66 s of a 14.7 s training
 * step at Qwen2.5-0.5B's shapes (docs/benchmarks.md, "What changed").
 *
 * <p>Masks follow the seed last given to {@link #seed} on the calling thread: the same seed and the same sequence of
 * draws give the same masks — what activation recomputation (a recomputed layer draws its first pass's masks) and an
 * exact resume need. Each draw is cut into fixed-size chunks with their own streams, so the masks do not depend on
 * how many threads fill them.
 */
public final class LoraDropout {
    private static final int CHUNK = 1 << 16; // elements per stream
    private static final ThreadLocal<SplittableRandom> STREAM = ThreadLocal.withInitial(() -> new SplittableRandom(0));
    private static final ThreadLocal<ByteBuffer> BUFFER = new ThreadLocal<>();

    private LoraDropout() {
    }

    /** The calling thread's mask buffer, grown to {@code n} bytes (direct memory is freed only by GC: reuse it). */
    private static ByteBuffer buffer(int n) {
        ByteBuffer buffer = BUFFER.get();
        if (buffer == null || buffer.capacity() < n) {
            buffer = ByteBuffer.allocateDirect(n);
            BUFFER.set(buffer);
        }
        return buffer;
    }

    /** Restarts the calling thread's masks from {@code seed} (per layer, by the training pass). */
    public static void seed(long seed) {
        STREAM.set(new SplittableRandom(seed));
    }

    /**
     * {@code x · mask} with {@code mask} 1 with probability {@code 1 - p}, else 0 — without {@code nn.Dropout}'s
     * {@code 1 / (1 - p)}: the caller applies that after the rank-r product, where it costs {@code r / in} of the work.
     */
    static NDArray dropUnscaled(NDArray x, float p) {
        long size = x.size();
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("LoRA dropout input " + x.getShape() + " has more than 2^31 elements");
        }
        int n = (int) size;
        SplittableRandom draw = STREAM.get().split(); // this draw's stream, in call order
        int chunks = (n + CHUNK - 1) / CHUNK;
        long[] seeds = new long[chunks];
        for (int c = 0; c < chunks; c++) {
            seeds[c] = draw.nextLong();
        }
        long keepBelow = Math.round((1.0 - p) * 0x1p32); // P(unsigned 32 random bits < keepBelow) = 1 - p (±2^-33)
        ByteBuffer mask = buffer(n);
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom random = new SplittableRandom(seeds[c]);
            int end = Math.min(n, (c + 1) * CHUNK);
            for (int i = c * CHUNK; i < end; i += 2) {
                long bits = random.nextLong();
                mask.put(i, (bits & 0xFFFFFFFFL) < keepBelow ? (byte) 1 : 0);
                if (i + 1 < end) {
                    mask.put(i + 1, (bits >>> 32) < keepBelow ? (byte) 1 : 0);
                }
            }
        });
        NDArray keep;
        // DJL's create aliases a direct buffer (torch::from_blob): copy it into memory PyTorch owns, so the buffer can
        // be reused by the next draw while autograd keeps this mask for the backward pass.
        try (NDArray view = x.getManager().create(mask.slice(0, n).order(ByteOrder.nativeOrder()), x.getShape(),
                DataType.UINT8)) {
            keep = view.duplicate();
        }
        try (keep) {
            return x.mul(keep); // float32 · uint8 → float32; autograd holds its own reference to the 1-byte mask
        }
    }
}
