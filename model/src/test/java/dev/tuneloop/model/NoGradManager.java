package dev.tuneloop.model;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;

/** A PyTorch manager for a test with autograd off; closing it frees its arrays and restores the thread's grad mode. */
public final class NoGradManager implements AutoCloseable {
    private final NDManager manager = NDManager.newBaseManager("PyTorch");
    private final boolean gradMode = JniUtils.isGradMode();

    public NoGradManager() {
        JniUtils.setGradMode(false);
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        JniUtils.setGradMode(gradMode);
        manager.close();
    }
}
