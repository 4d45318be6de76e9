package dev.tuneloop.storage;

import java.net.URI;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 server in the test JVM (S3Proxy over jclouds), speaking SigV4 path-style on a free port of 127.0.0.1.
 * Shipped in storage's test-jar for services' tests; they also need {@code org.gaul:s3proxy} in test scope.
 *
 * <pre>{@code
 * try (S3ProxyServer s3 = S3ProxyServer.startInMemory()) {
 *     ObjectStore store = new ObjectStore(s3.settings("tuneloop"));
 * }
 * }</pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "tuneloop-test";
    public static final String SECRET_KEY = "tuneloop-test-secret-0123456789";

    private final S3Proxy proxy;
    private final BlobStoreContext context;

    private S3ProxyServer(S3Proxy proxy, BlobStoreContext context) {
        this.proxy = proxy;
        this.context = context;
    }

    /** Objects kept in memory (jclouds {@code transient-nio2}). */
    public static S3ProxyServer startInMemory() {
        return start("transient-nio2", new Properties());
    }

    /** Objects kept as files under {@code dir} (jclouds {@code filesystem-nio2}), e.g. a {@code @TempDir}. */
    public static S3ProxyServer startOnDisk(Path dir) {
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        return start("filesystem-nio2", properties);
    }

    private static S3ProxyServer start(String provider, Properties properties) {
        BlobStoreContext context = ContextBuilder.newBuilder(provider)
                .credentials("identity", "credential")
                .overrides(properties)
                .build(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("S3Proxy did not start within 10 s, state " + proxy.getState());
                }
                Thread.sleep(10);
            }
        } catch (Exception e) {
            context.close();
            throw new IllegalStateException("cannot start S3Proxy (" + provider + ")", e);
        }
        return new S3ProxyServer(proxy, context);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    public int port() {
        return proxy.getPort();
    }

    /** Settings for this server with the right credentials and the given bucket. */
    public StorageSettings settings(String bucket) {
        return new StorageSettings(endpoint(), ACCESS_KEY, SECRET_KEY, null, bucket);
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy on port " + proxy.getPort(), e);
        } finally {
            context.close();
        }
    }
}
