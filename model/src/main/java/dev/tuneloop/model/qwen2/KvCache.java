package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for the positions seen so far, in buffers allocated once for {@code capacity}
 * positions: {@code (B, n_kv, capacity, hd)} per layer; appending writes in place, reading returns a view of the first
 * {@link #length()} positions. Inference only (no gradients).
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private int length;
    private int pending; // positions appended in the current forward pass (all layers append the same count)

    public KvCache(NDManager parent, Qwen2Config config, int batch, int capacity) {
        this.manager = parent.newSubManager();
        this.capacity = capacity;
        this.keys = new NDArray[config.numHiddenLayers()];
        this.values = new NDArray[config.numHiddenLayers()];
        Shape shape = new Shape(batch, config.numKeyValueHeads(), capacity, config.headDim());
        for (int i = 0; i < keys.length; i++) {
            keys[i] = manager.zeros(shape);
            values[i] = manager.zeros(shape);
        }
    }

    /** Writes {@code k, v (B, n_kv, T, hd)} of {@code layer} after the cached positions; returns all keys and values. */
    NDList append(int layer, NDArray k, NDArray v) {
        long t = k.getShape().get(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        }
        NDIndex slot = new NDIndex(":, :, {}:{}, :", length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        pending = (int) t;
        NDIndex upTo = new NDIndex(":, :, :{}, :", length + t);
        // views of the filled part, owned by the caller's manager so they are freed with the forward pass
        NDArray kAll = keys[layer].get(upTo);
        NDArray vAll = values[layer].get(upTo);
        kAll.attach(k.getManager());
        vAll.attach(k.getManager());
        return new NDList(kAll, vAll);
    }

    /** Called once all layers have appended: the new positions become part of the cache. */
    void commit() {
        length += pending;
        pending = 0;
    }

    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        manager.close();
    }
}
