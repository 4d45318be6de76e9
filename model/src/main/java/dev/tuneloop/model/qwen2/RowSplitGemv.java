package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code x · Wᵀ + b} for a single input row (one decode step), with the rows of {@code W} (out, in) split between the
 * calling thread and one worker thread per further core. PyTorch's CPU matrix-vector product runs this shape on one
 * thread: Qwen2.5-0.5B's 151,936 × 896 head streamed at 14 GB/s on the 2-core benchmark machine, its two halves on two
 * threads at 25 GB/s; gate/up/down from memory 13-18 GB/s → 19-26 GB/s (docs/benchmarks.md, "What changed").
 * Each output element is still one row of {@code W} dotted with {@code x}.
 *
 * <p>Used only where it helps and is safe: grad mode off (inference), exactly one input row, a weight of at least
 * {@value #MIN_ELEMENTS} elements (smaller ones cost more in the hand-off than they save) and more than one core.
 * Everything else, training included, is one {@code linear}.
 */
public final class RowSplitGemv {
    static final int MIN_ELEMENTS = 1 << 19;
    private static final int PARTS = Math.min(4, Runtime.getRuntime().availableProcessors());
    private static final Worker[] WORKERS = workers(PARTS - 1);

    private static final AtomicLong SPLIT_CALLS = new AtomicLong();

    private NDArray weight; // the weight and bias the views below were cut from
    private NDArray bias;
    private NDArray[] weightParts;
    private NDArray[] biasParts;

    /** {@code x (..., in) → (..., out)}; one instance per call site (it keeps views of the last weight it saw). */
    public NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        long in = weight.getShape().get(1);
        boolean split = WORKERS.length > 0 && x.size() == in && weight.size() >= MIN_ELEMENTS && !JniUtils.isGradMode();
        if (!split) {
            return plain(x, weight, bias);
        }
        NDArray[][] views = views(weight, bias);
        SPLIT_CALLS.incrementAndGet();
        return apply(x, views[0], views[1]);
    }

    /** How many products were split so far, in this JVM (for tests). */
    static long splitCalls() {
        return SPLIT_CALLS.get();
    }

    private synchronized NDArray[][] views(NDArray weight, NDArray bias) {
        if (this.weight != weight || this.bias != bias) {
            close();
            long out = weight.getShape().get(0);
            weightParts = new NDArray[PARTS];
            biasParts = new NDArray[PARTS];
            for (int i = 0; i < PARTS; i++) {
                String rows = (out * i / PARTS) + ":" + (out * (i + 1) / PARTS);
                weightParts[i] = weight.get(rows); // a view: shares the weight's storage (and sees merges)
                biasParts[i] = bias == null ? null : bias.get(rows);
                // kept across passes: not the caller's per-layer scope to close (Qwen2Model.forward)
                NDScope.unregister(weightParts[i]);
                if (biasParts[i] != null) {
                    NDScope.unregister(biasParts[i]);
                }
            }
            this.weight = weight;
            this.bias = bias;
        }
        return new NDArray[][] {weightParts, biasParts};
    }

    private static NDArray apply(NDArray x, NDArray[] weightParts, NDArray[] biasParts) {
        synchronized (WORKERS) { // one split at a time: the workers have one task slot each
            for (int i = 1; i < PARTS; i++) {
                NDArray w = weightParts[i];
                NDArray b = biasParts[i];
                WORKERS[i - 1].submit(() -> plain(x, w, b));
            }
            NDList parts = new NDList(PARTS);
            Throwable failure = null;
            try {
                parts.add(plain(x, weightParts[0], biasParts[0]));
            } catch (RuntimeException e) {
                failure = e;
            }
            for (Worker worker : WORKERS) { // always wait for every part: x must outlive the workers' reads
                NDArray part = worker.await();
                if (part != null) {
                    parts.add(part);
                } else if (failure == null) {
                    failure = worker.failure;
                }
            }
            try {
                if (failure instanceof RuntimeException runtime) {
                    throw runtime;
                } else if (failure != null) {
                    throw new IllegalStateException("split matrix-vector product failed", failure);
                }
                return NDArrays.concat(parts, x.getShape().dimension() - 1); // (..., out)
            } finally {
                parts.close();
            }
        }
    }

    private void close() {
        if (weightParts == null) {
            return;
        }
        for (int i = 0; i < PARTS; i++) {
            weightParts[i].close();
            if (biasParts[i] != null) {
                biasParts[i].close();
            }
        }
    }

    private static NDArray plain(NDArray x, NDArray weight, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    private static Worker[] workers(int n) {
        Worker[] workers = new Worker[Math.max(0, n)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("tuneloop-gemv-" + (i + 1));
        }
        return workers;
    }

    /**
     * A thread that computes one part at a time. Both sides spin for a short while before parking: a decode step hands
     * over ~170 parts, and a park/unpark round trip cost tens of microseconds on the benchmark VM (an executor's
     * hand-off left ~40 ms of a 110 ms token outside PyTorch's operators).
     */
    private static final class Worker implements Runnable {
        private static final long SPIN_NANOS = 200_000;
        private final Thread thread;
        private volatile Callable<NDArray> task;
        private volatile NDArray result;
        private volatile Throwable failure;
        private volatile boolean done = true;

        Worker(String name) {
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        void submit(Callable<NDArray> part) {
            result = null;
            failure = null;
            done = false;
            task = part;
            LockSupport.unpark(thread);
        }

        /** The part's result, or {@code null} when it failed (see {@link #failure}). Never interrupted. */
        NDArray await() {
            long start = System.nanoTime();
            while (!done) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 50_000); // polls: no lost wake-up to reason about
                }
            }
            return result;
        }

        @Override
        public void run() {
            JniUtils.setGradMode(false); // grad mode is per thread in PyTorch; the callers have it off too
            while (true) {
                long idleSince = System.nanoTime();
                Callable<NDArray> part;
                while ((part = task) == null) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                task = null;
                try {
                    result = part.call();
                } catch (Throwable e) {
                    failure = e;
                }
                done = true;
            }
        }
    }
}
