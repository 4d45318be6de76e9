package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * Rotary position embedding in Hugging Face's rotate-half layout (Qwen2RotaryEmbedding + apply_rotary_pos_emb): the
 * head dimension is split in two halves (not interleaved pairs), {@code inv_freq[i] = theta^(-2i/d)}, and
 * {@code x' = x·cos + rotate_half(x)·sin} with {@code rotate_half(x) = cat(-x[d/2:], x[:d/2])}.
 * The cos/sin table is computed in double precision and grown on demand.
 */
public final class RotaryEmbedding implements AutoCloseable {
    private final int headDim;
    private final double theta;
    private final NDManager manager;
    private NDArray cosTable; // (P, hd)
    private NDArray sinTable; // (P, hd)
    private int length;

    public RotaryEmbedding(NDManager parent, int headDim, double theta) {
        this.manager = parent.newSubManager();
        this.headDim = headDim;
        this.theta = theta;
    }

    /** cos and sin for the given positions: {@code (B, T)} ids -> two {@code (B, 1, T, hd)} arrays. */
    public synchronized NDList cosSin(NDArray positionIds) {
        int needed = (int) positionIds.max().toLongArray()[0] + 1;
        ensure(needed);
        NDArray cos = positionIds.getNDArrayInternal().embedding(positionIds, cosTable, SparseFormat.DENSE)
                .singletonOrThrow(); // (B, T, hd)
        NDArray sin = positionIds.getNDArrayInternal().embedding(positionIds, sinTable, SparseFormat.DENSE)
                .singletonOrThrow();
        return new NDList(cos.expandDims(1), sin.expandDims(1));
    }

    /** Applies the rotation to {@code x (B, n, T, hd)}. */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(":, :, :, :{}", half);
        NDArray x2 = x.get(":, :, :, {}:", half);
        NDArray rotated = x2.neg().concat(x1, 3); // rotate_half
        return x.mul(cos).add(rotated.mul(sin));
    }

    private void ensure(int needed) {
        if (needed <= length) {
            return;
        }
        int newLength = Math.max(needed, Math.max(64, length * 2));
        int half = headDim / 2;
        float[] cos = new float[newLength * headDim];
        float[] sin = new float[newLength * headDim];
        for (int p = 0; p < newLength; p++) {
            for (int i = 0; i < half; i++) {
                double invFreq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
                double angle = p * invFreq;
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * headDim + i] = c;
                cos[p * headDim + i + half] = c;
                sin[p * headDim + i] = s;
                sin[p * headDim + i + half] = s;
            }
        }
        if (cosTable != null) {
            cosTable.close();
            sinTable.close();
        }
        cosTable = manager.create(cos, new Shape(newLength, headDim));
        sinTable = manager.create(sin, new Shape(newLength, headDim));
        length = newLength;
    }

    @Override
    public void close() {
        manager.close();
    }
}
