package dev.tuneloop.stack;

import dev.tuneloop.storage.StorageSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 server in this JVM: S3Proxy (SigV4, path-style) on 127.0.0.1 over jclouds {@code filesystem-nio2}, one
 * folder per bucket under {@code dir}, so objects survive restarts. The bucket is created if missing. It is local
 * only, so its credentials are fixed ({@link #ACCESS_KEY}, {@link #SECRET_KEY}).
 */
public final class LocalS3 implements AutoCloseable {
    public static final String ACCESS_KEY = "tuneloop";
    public static final String SECRET_KEY = "tuneloop-local-secret";
    private static final long START_TIMEOUT_NANOS = 30_000_000_000L;

    private final S3Proxy proxy;
    private final BlobStoreContext context;
    private final String bucket;

    private LocalS3(S3Proxy proxy, BlobStoreContext context, String bucket) {
        this.proxy = proxy;
        this.context = context;
        this.bucket = bucket;
    }

    /** Starts the server on {@code port} (0 for a free one) with {@code bucket} present. */
    public static LocalS3 start(Path dir, int port, String bucket) throws IOException {
        int chosen = Ports.choose(port, "S3");
        Files.createDirectories(dir);
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        BlobStoreContext context = ContextBuilder.newBuilder("filesystem-nio2")
                .credentials("identity", "credential")
                .overrides(properties)
                .build(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + chosen))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline || "FAILED".equals(proxy.getState())) {
                    throw new IOException("S3Proxy on port " + chosen + " did not start (state " + proxy.getState()
                            + ")");
                }
                Thread.sleep(10);
            }
            context.getBlobStore().createContainerInLocation(null, bucket);
        } catch (Exception e) {
            try {
                proxy.stop();
            } catch (Exception stopping) {
                e.addSuppressed(stopping);
            }
            context.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof IOException io ? io
                    : new IOException("cannot start S3Proxy on 127.0.0.1:" + chosen + " over " + dir + ": " + e, e);
        }
        return new LocalS3(proxy, context, bucket);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    public StorageSettings settings() {
        return new StorageSettings(endpoint(), ACCESS_KEY, SECRET_KEY, null, bucket);
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy on " + endpoint() + ": " + e.getMessage(), e);
        } finally {
            context.close();
        }
    }
}
