package dev.tuneloop.cli;

import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StorageSettings;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * {@code s3://bucket/key} on the command line, with the standard AWS variables: {@code AWS_ENDPOINT_URL} (MinIO,
 * S3Proxy or AWS), {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_REGION}.
 */
final class S3Access {
    private S3Access() {}

    static InputStream open(String location) throws IOException {
        ObjectUri uri = ObjectUri.parse(location);
        String endpoint = env("AWS_ENDPOINT_URL", location);
        StorageSettings settings = new StorageSettings(endpoint, env("AWS_ACCESS_KEY_ID", location),
                env("AWS_SECRET_ACCESS_KEY", location), System.getenv("AWS_REGION"), uri.bucket());
        ObjectStore store = new ObjectStore(settings);
        InputStream in = store.open(uri);
        return new FilterInputStream(in) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    store.close();
                }
            }
        };
    }

    private static String env(String name, String location) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(location + ": reading s3:// needs the environment variable " + name);
        }
        return v;
    }
}
