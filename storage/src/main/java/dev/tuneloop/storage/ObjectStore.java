package dev.tuneloop.storage;

import dev.tuneloop.contracts.StoredObject;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.RemoveObjectsArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.DeleteError;
import io.minio.messages.DeleteObject;
import io.minio.messages.Item;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verified object storage on the MinIO Java SDK. Every upload stores the content's sha256 as user metadata
 * ({@code x-amz-meta-sha256}) and is checked after the fact (size and sha256); every download is hashed on the way
 * and checked against the expected (or else the stored) sha256 before it appears at its target path. Transient
 * failures are retried per {@link RetryPolicy}; everything else throws a {@link StorageException} naming the
 * operation, the URI and the server's answer, never the secret key.
 */
public final class ObjectStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectStore.class);
    /** User-metadata name; S3 sends it as the header {@code x-amz-meta-sha256}. */
    public static final String SHA256_METADATA = "sha256";
    private static final long PART_SIZE = 16L << 20;

    private final StorageSettings settings;
    private final Retrier retrier;
    private final MinioClient client;

    public ObjectStore(StorageSettings settings) {
        this(settings, RetryPolicy.DEFAULT);
    }

    public ObjectStore(StorageSettings settings, RetryPolicy retry) {
        this.settings = settings;
        this.retrier = new Retrier(retry, settings.endpoint());
        this.client = MinioClient.builder()
                .endpoint(settings.endpoint())
                .credentials(settings.accessKey(), settings.secretKey())
                .region(settings.region())
                .build();
        client.setTimeout(Duration.ofSeconds(10).toMillis(), Duration.ofMinutes(5).toMillis(),
                Duration.ofMinutes(5).toMillis());
    }

    public StorageSettings settings() {
        return settings;
    }

    /**
     * Transient failures seen so far: for metrics and status, so an outage of the store shows outside the logs.
     *
     * @param retries calls tried again after a transient failure (connection refused or reset, timeout, HTTP 5xx)
     * @param failedCalls calls that failed for good (not transient, or out of attempts)
     * @param lastTransientFailure the latest transient failure (operation, URI, attempt, cause); {@code null} if none
     * @param lastTransientFailureAt when it happened; {@code null} if never
     */
    public record Stats(long retries, long failedCalls, String lastTransientFailure, Instant lastTransientFailureAt) {}

    public Stats stats() {
        return retrier.stats();
    }

    /** {@code key} in the configured bucket. */
    public ObjectUri uri(String key) {
        return new ObjectUri(settings.bucket(), key);
    }

    /** Creates the configured bucket unless it exists. */
    public void ensureBucket() throws StorageException {
        String bucket = settings.bucket();
        call("ensureBucket", ObjectUri.SCHEME + bucket, () -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                try {
                    client.makeBucket(MakeBucketArgs.builder().bucket(bucket).region(settings.region()).build());
                } catch (ErrorResponseException e) {
                    if (!"BucketAlreadyOwnedByYou".equals(e.errorResponse().code())) {
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    /** Uploads {@code file}, hashing it on the way, and verifies size and sha256 of what the store then holds. */
    public StoredObject put(ObjectUri uri, Path file) throws IOException {
        requireObject(uri);
        long size = Files.size(file);
        String sha256 = Sha256.of(file);
        call("put", uri.toString(), () -> {
            try (DigestInputStream in = Sha256.digesting(new BufferedInputStream(Files.newInputStream(file)))) {
                upload(uri, in, size, sha256);
                String sent = Sha256.hex(in);
                if (!sent.equals(sha256)) {
                    client.removeObject(RemoveObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build());
                    throw new ChecksumMismatchException("put", uri.toString(),
                            "file " + file + " changed during the upload (object removed):", sha256, sent);
                }
            }
            return null;
        });
        return verifyStored("put", uri, size, sha256);
    }

    public StoredObject putBytes(ObjectUri uri, byte[] data) throws StorageException {
        requireObject(uri);
        String sha256 = Sha256.of(data);
        call("put", uri.toString(), () -> {
            upload(uri, new ByteArrayInputStream(data), data.length, sha256);
            return null;
        });
        return verifyStored("put", uri, data.length, sha256);
    }

    /**
     * Downloads to a temporary file beside {@code target}, checks its sha256 against {@code expectedSha256} (or, when
     * that is {@code null}, against the stored {@code x-amz-meta-sha256} if there is one), then moves it into place
     * atomically. On a mismatch nothing is left behind and a {@link ChecksumMismatchException} names both hashes.
     */
    public StoredObject get(ObjectUri uri, Path target, String expectedSha256) throws IOException {
        requireObject(uri);
        requireHex(uri, expectedSha256);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return call("get", uri.toString(), () -> download(uri, target.toAbsolutePath(), dir, expectedSha256));
    }

    /**
     * The object's content in memory, checked as {@link #get} checks a download (sha256 against
     * {@code expectedSha256}, or the stored {@code x-amz-meta-sha256} when that is {@code null}); nothing touches the
     * disk. An object of more than {@code maxBytes} is refused unread.
     */
    public byte[] getBytes(ObjectUri uri, String expectedSha256, int maxBytes) throws IOException {
        requireObject(uri);
        requireHex(uri, expectedSha256);
        return call("get", uri.toString(), () -> {
            try (GetObjectResponse response = client.getObject(getArgs(uri))) {
                String length = response.headers().get("Content-Length");
                long declared = length != null ? Long.parseLong(length) : -1;
                if (declared > maxBytes) {
                    throw new StorageException("get", uri.toString(), 1, 0, null, "the object is " + declared
                            + " bytes, more than the " + maxBytes + " bytes this read allows", null);
                }
                byte[] data;
                if (declared >= 0) { // straight into one array: readNBytes(n) would collect 8 KiB chunks, then copy
                    data = new byte[(int) declared];
                    int got = response.readNBytes(data, 0, data.length);
                    if (got < declared) {
                        throw new EOFException(uri + ": the response ended after " + got + " of " + declared
                                + " bytes");
                    }
                } else {
                    data = response.readNBytes(maxBytes);
                }
                if (response.read() >= 0) {
                    throw new StorageException("get", uri.toString(), 1, 0, null, "the object is longer than "
                            + (declared >= 0 ? "its Content-Length " + declared : maxBytes + " bytes"), null);
                }
                verify(uri, expectedSha256, response.headers().get("x-amz-meta-" + SHA256_METADATA), Sha256.of(data));
                return data;
            }
        });
    }

    /** The object's content; the caller closes the stream. Only opening is retried. */
    public InputStream open(ObjectUri uri) throws StorageException {
        requireObject(uri);
        return call("open", uri.toString(), () -> client.getObject(getArgs(uri)));
    }

    public boolean exists(ObjectUri uri) throws StorageException {
        requireObject(uri);
        return call("exists", uri.toString(), () -> {
            try {
                client.statObject(StatObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build());
                return true;
            } catch (ErrorResponseException e) {
                if ("NoSuchKey".equals(e.errorResponse().code())) {
                    return false;
                }
                throw e;
            }
        });
    }

    /** Every object whose key starts with {@code prefix}'s key, sorted by key. */
    public List<ObjectUri> list(ObjectUri prefix) throws StorageException {
        List<String> keys = call("list", prefix.toString(), () -> listKeys(prefix));
        List<ObjectUri> uris = new ArrayList<>(keys.size());
        for (String key : keys) {
            try {
                uris.add(new ObjectUri(prefix.bucket(), key));
            } catch (IllegalArgumentException e) {
                throw new StorageException("list", prefix.toString(), 1, 0, null,
                        "the store holds an object tuneloop cannot address: " + e.getMessage(), e);
            }
        }
        return uris;
    }

    /** Deletes every object under the folder {@code prefix} (its key must end with '/'); returns how many. */
    public int delete(ObjectUri prefix) throws StorageException {
        if (!prefix.isFolder()) {
            throw new IllegalArgumentException("delete takes a folder prefix ending with '/', got " + prefix
                    + " (without the '/' it would also delete siblings such as " + prefix + "-other/)");
        }
        return call("delete", prefix.toString(), () -> {
            List<DeleteObject> objects = listKeys(prefix).stream().map(DeleteObject::new).toList();
            if (objects.isEmpty()) {
                return 0;
            }
            var results = client.removeObjects(
                    RemoveObjectsArgs.builder().bucket(prefix.bucket()).objects(objects).build());
            for (Result<DeleteError> result : results) {
                DeleteError error = result.get();
                throw new StorageException("delete", ObjectUri.SCHEME + prefix.bucket() + "/" + error.objectName(), 1,
                        0, error.code(), error.code() + ": " + error.message(), null);
            }
            return objects.size();
        });
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (Exception e) {
            LOG.warn("closing the S3 client for {} failed: {}", settings.endpoint(), e.toString());
        }
    }

    private void upload(ObjectUri uri, InputStream in, long size, String sha256) throws Exception {
        client.putObject(PutObjectArgs.builder()
                .bucket(uri.bucket())
                .object(uri.key())
                .stream(in, size, PART_SIZE)
                .userMetadata(Map.of(SHA256_METADATA, sha256))
                .build());
    }

    private StoredObject verifyStored(String operation, ObjectUri uri, long size, String sha256)
            throws StorageException {
        StatObjectResponse stat = call(operation, uri.toString(),
                () -> client.statObject(StatObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build()));
        if (stat.size() != size) {
            throw new StorageException(operation, uri.toString(), 1, 0, null,
                    "the store holds " + stat.size() + " bytes after uploading " + size, null);
        }
        String stored = storedSha256(stat.userMetadata());
        if (!sha256.equals(stored)) {
            throw new ChecksumMismatchException(operation, uri.toString(), "stored x-amz-meta-sha256", sha256, stored);
        }
        return new StoredObject(uri.toString(), sha256, size);
    }

    private StoredObject download(ObjectUri uri, Path target, Path dir, String expectedSha256) throws Exception {
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".part");
        boolean moved = false;
        try {
            String actual;
            String stored;
            long size;
            try (GetObjectResponse response = client.getObject(getArgs(uri));
                    DigestInputStream in = Sha256.digesting(response);
                    OutputStream out = Files.newOutputStream(temp)) {
                size = in.transferTo(out);
                actual = Sha256.hex(in);
                stored = response.headers().get("x-amz-meta-" + SHA256_METADATA);
            }
            verify(uri, expectedSha256, stored, actual);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            return new StoredObject(uri.toString(), actual, size);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static void requireHex(ObjectUri uri, String expectedSha256) {
        if (expectedSha256 != null && !Sha256.isHex(expectedSha256)) {
            throw new IllegalArgumentException("expected sha256 for " + uri + " must be 64 lowercase hex digits, got '"
                    + expectedSha256 + "'");
        }
    }

    /** Fetched bytes hashing to {@code actual}: checked against the caller's hash, else the stored one if any. */
    private static void verify(ObjectUri uri, String expectedSha256, String stored, String actual)
            throws ChecksumMismatchException {
        if (expectedSha256 != null && !expectedSha256.equals(actual)) {
            throw new ChecksumMismatchException("get", uri.toString(), "the request", expectedSha256, actual);
        }
        if (expectedSha256 == null && stored != null && !stored.equals(actual)) {
            throw new ChecksumMismatchException("get", uri.toString(), "stored x-amz-meta-sha256", stored, actual);
        }
    }

    private List<String> listKeys(ObjectUri prefix) throws Exception {
        List<String> keys = new ArrayList<>();
        for (Result<Item> result : client.listObjects(
                ListObjectsArgs.builder().bucket(prefix.bucket()).prefix(prefix.key()).recursive(true).build())) {
            Item item = result.get();
            if (!item.isDir()) {
                keys.add(item.objectName());
            }
        }
        keys.sort(Comparator.naturalOrder());
        return keys;
    }

    private static GetObjectArgs getArgs(ObjectUri uri) {
        return GetObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build();
    }

    private static void requireObject(ObjectUri uri) {
        if (uri.isFolder()) {
            throw new IllegalArgumentException(uri + " is a folder prefix (ends with '/'), not an object");
        }
    }

    private static String storedSha256(Map<String, String> userMetadata) {
        return userMetadata.entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase(SHA256_METADATA)
                        || e.getKey().equalsIgnoreCase("x-amz-meta-" + SHA256_METADATA))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    private <T> T call(String operation, String uri, Retrier.Call<T> body) throws StorageException {
        return retrier.call(operation, uri, body);
    }
}
