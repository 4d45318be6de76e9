package dev.tuneloop.inference;

import ai.djl.Device;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;

/** A real S3 server in the test JVM with the {@code tuneloop} bucket, a store on it, and the tiny test model. */
record StoreAndModel(S3ProxyServer s3, ObjectStore store, QaModel model) implements AutoCloseable {

    static StoreAndModel start() throws Exception {
        S3ProxyServer s3 = S3ProxyServer.startInMemory();
        ObjectStore store = new ObjectStore(s3.settings("tuneloop"));
        store.ensureBucket();
        return new StoreAndModel(s3, store, QaModel.open(TestModels.get().modelDir(), Device.cpu()));
    }

    @Override
    public void close() {
        model.close();
        store.close();
        s3.close();
    }
}
