package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.StoredObject;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ObjectStore} against a real S3 server (S3Proxy, in memory) in the test JVM. */
class ObjectStoreTest {
    private static final String BUCKET = "tuneloop";
    private static S3ProxyServer s3;
    private static ObjectStore store;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
    }

    @AfterAll
    static void stop() {
        store.close();
        s3.close();
    }

    @Test
    void putThenGetRoundTripsBytesAndSha256() throws IOException {
        Path file = randomFile("adapter_model.safetensors", 3_000_123, 1);
        ObjectUri uri = store.uri("runs/round-trip/checkpoints/epoch-0001/adapter_model.safetensors");
        StoredObject stored = store.put(uri, file);
        assertEquals(new StoredObject(uri.toString(), Sha256.of(file), 3_000_123), stored);

        Path target = dir.resolve("download/adapter_model.safetensors");
        StoredObject fetched = store.get(uri, target, stored.sha256());
        assertEquals(stored, fetched);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(target));
        assertEquals(List.of(target), listFiles(target.getParent()), "no temporary files may remain");
    }

    @Test
    void objectsLargerThanOnePartGoUpInPartsAndStillVerify() throws IOException {
        Path file = randomFile("big.bin", (17 << 20) + 5, 2);
        ObjectUri uri = store.uri("runs/multipart/big.bin");
        StoredObject stored = store.put(uri, file);
        assertEquals(Sha256.of(file), stored.sha256());
        Path target = dir.resolve("big.copy");
        assertEquals(stored, store.get(uri, target, null));
        assertEquals(Sha256.of(file), Sha256.of(target));
    }

    @Test
    void putBytesOpenAndExists() throws IOException {
        ObjectUri uri = store.uri("runs/bytes/adapter_config.json");
        byte[] json = "{\"r\": 8, \"lora_alpha\": 16}".getBytes(StandardCharsets.UTF_8);
        assertFalse(store.exists(uri));
        StoredObject stored = store.putBytes(uri, json);
        assertEquals(Sha256.of(json), stored.sha256());
        assertEquals(json.length, stored.size());
        assertTrue(store.exists(uri));
        try (InputStream in = store.open(uri)) {
            assertArrayEquals(json, in.readAllBytes());
        }
    }

    @Test
    void aTamperedObjectFailsTheExpectedSha256AndLeavesNoFile() throws Exception {
        ObjectUri uri = store.uri("runs/tampered/adapter_model.safetensors");
        StoredObject stored = store.putBytes(uri, "original weights".getBytes(StandardCharsets.UTF_8));
        byte[] evil = "evil weights".getBytes(StandardCharsets.UTF_8);
        rawPut(uri, evil, Map.of());

        Path target = dir.resolve("adapter_model.safetensors");
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> store.get(uri, target, stored.sha256()));
        assertEquals(stored.sha256(), e.expectedSha256());
        assertEquals(Sha256.of(evil), e.actualSha256());
        assertTrue(e.getMessage().contains(uri.toString()) && e.getMessage().contains(stored.sha256())
                && e.getMessage().contains(Sha256.of(evil)), e.getMessage());
        assertEquals(List.of(), listFiles(dir), "neither the target nor a temporary file may remain");
    }

    @Test
    void withoutAnExpectedHashTheStoredSha256IsChecked() throws Exception {
        ObjectUri uri = store.uri("runs/tampered-keeping-metadata/adapter_config.json");
        StoredObject stored = store.putBytes(uri, "{\"r\": 8}".getBytes(StandardCharsets.UTF_8));
        rawPut(uri, "{\"r\": 64}".getBytes(StandardCharsets.UTF_8), Map.of("sha256", stored.sha256()));
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> store.get(uri, dir.resolve("adapter_config.json"), null));
        assertTrue(e.getMessage().contains("stored x-amz-meta-sha256"), e.getMessage());
        assertEquals(List.of(), listFiles(dir));
    }

    @Test
    void getBytesReadsIntoMemoryWithTheSameChecks() throws Exception {
        Path file = randomFile("adapter_model.safetensors", 3_000_123, 3);
        ObjectUri uri = store.uri("runs/in-memory/adapter_model.safetensors");
        StoredObject stored = store.put(uri, file);
        assertArrayEquals(Files.readAllBytes(file), store.getBytes(uri, stored.sha256(), 3_000_123));
        assertArrayEquals(Files.readAllBytes(file), store.getBytes(uri, null, Integer.MAX_VALUE - 8));

        byte[] evil = "evil weights".getBytes(StandardCharsets.UTF_8);
        rawPut(uri, evil, Map.of("sha256", stored.sha256()));
        ChecksumMismatchException expected = assertThrows(ChecksumMismatchException.class,
                () -> store.getBytes(uri, stored.sha256(), 1 << 20));
        assertEquals(Sha256.of(evil), expected.actualSha256());
        ChecksumMismatchException storedHash = assertThrows(ChecksumMismatchException.class,
                () -> store.getBytes(uri, null, 1 << 20));
        assertTrue(storedHash.getMessage().contains("stored x-amz-meta-sha256"), storedHash.getMessage());
        assertEquals(List.of(), listFiles(dir), "nothing is written to disk");
    }

    @Test
    void getBytesRefusesAnObjectOverItsLimitUnreadAndWithoutRetries() throws IOException {
        ObjectUri uri = store.uri("runs/in-memory/too-big.bin");
        store.putBytes(uri, new byte[1001]);
        StorageException e = assertThrows(StorageException.class, () -> store.getBytes(uri, null, 1000));
        assertEquals(1, e.attempts());
        assertTrue(e.getMessage().contains("1001 bytes, more than the 1000 bytes"), e.getMessage());
        assertEquals(1001, store.getBytes(uri, null, 1001).length);
    }

    @Test
    void aFailedGetKeepsTheFileThatWasThere() throws Exception {
        ObjectUri uri = store.uri("runs/keep-old/data.bin");
        StoredObject stored = store.putBytes(uri, new byte[] {1, 2, 3});
        Path target = Files.write(dir.resolve("data.bin"), new byte[] {9, 9});
        rawPut(uri, new byte[] {4, 5, 6}, Map.of());
        assertThrows(ChecksumMismatchException.class, () -> store.get(uri, target, stored.sha256()));
        assertArrayEquals(new byte[] {9, 9}, Files.readAllBytes(target));
        assertEquals(List.of(target), listFiles(dir));
    }

    @Test
    void aMissingObjectIsA404WithoutRetries() {
        StorageException e = assertThrows(StorageException.class,
                () -> store.get(store.uri("runs/none/missing.bin"), dir.resolve("missing.bin"), null));
        assertEquals(404, e.httpStatus());
        assertEquals("NoSuchKey", e.errorCode());
        assertEquals(1, e.attempts());
        assertTrue(e.getMessage().startsWith("get s3://tuneloop/runs/none/missing.bin failed: HTTP 404 NoSuchKey"),
                e.getMessage());
    }

    @Test
    void listAndDeleteWorkOnFolderPrefixesOnly() throws IOException {
        for (String key : List.of("runs/r1/a.json", "runs/r1/checkpoints/epoch-0001/b.bin", "runs/r10/c.json")) {
            store.putBytes(store.uri(key), key.getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of(store.uri("runs/r1/a.json"), store.uri("runs/r1/checkpoints/epoch-0001/b.bin")),
                store.list(store.uri("runs/r1/")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.delete(store.uri("runs/r1")));
        assertTrue(e.getMessage().contains("folder prefix ending with '/'"), e.getMessage());

        assertEquals(2, store.delete(store.uri("runs/r1/")));
        assertEquals(List.of(), store.list(store.uri("runs/r1/")));
        assertTrue(store.exists(store.uri("runs/r10/c.json")), "a sibling prefix must survive");
        assertEquals(0, store.delete(store.uri("runs/r1/")));
    }

    @Test
    void aWrongSecretIsAClear403WithoutTheSecret() {
        String secret = "not-the-secret-7f3a9c";
        StorageSettings wrong = new StorageSettings(s3.endpoint(), S3ProxyServer.ACCESS_KEY, secret, null, BUCKET);
        try (ObjectStore bad = new ObjectStore(wrong)) {
            StorageException e = assertThrows(StorageException.class,
                    () -> bad.putBytes(bad.uri("runs/x/y.json"), new byte[] {1}));
            assertEquals(403, e.httpStatus());
            assertEquals(1, e.attempts(), "authentication failures are not retried");
            assertTrue(e.getMessage().contains("HTTP 403") && e.getMessage().contains("s3://tuneloop/runs/x/y.json")
                    && e.getMessage().contains("check the access key, the secret key"), e.getMessage());
            for (Throwable t = e; t != null; t = t.getCause()) {
                assertFalse(String.valueOf(t.getMessage()).contains(secret), "secret leaked in " + t);
                assertFalse(t.toString().contains(secret), "secret leaked in " + t);
            }
        }
    }

    @Test
    void ensureBucketIsIdempotent() throws IOException {
        store.ensureBucket();
        try (ObjectStore other = new ObjectStore(s3.settings("tuneloop-second"))) {
            other.ensureBucket();
            other.ensureBucket();
            other.putBytes(other.uri("x/y"), new byte[] {7});
            assertTrue(other.exists(other.uri("x/y")));
        }
    }

    @Test
    void filesystemBackendKeepsTheSha256Metadata(@TempDir Path blobs) throws IOException {
        try (S3ProxyServer disk = S3ProxyServer.startOnDisk(blobs);
                ObjectStore onDisk = new ObjectStore(disk.settings(BUCKET))) {
            onDisk.ensureBucket();
            Path file = randomFile("w.bin", 100_000, 3);
            ObjectUri uri = onDisk.uri("runs/disk/w.bin");
            StoredObject stored = onDisk.put(uri, file);
            assertEquals(stored, onDisk.get(uri, dir.resolve("w.copy"), stored.sha256()));
        }
    }

    private static void rawPut(ObjectUri uri, byte[] data, Map<String, String> metadata) throws Exception {
        MinioClient raw = MinioClient.builder()
                .endpoint(s3.endpoint())
                .credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                .region("us-east-1")
                .build();
        try {
            raw.putObject(PutObjectArgs.builder().bucket(uri.bucket()).object(uri.key())
                    .stream(new ByteArrayInputStream(data), data.length, -1).userMetadata(metadata).build());
        } finally {
            raw.close();
        }
    }

    private Path randomFile(String name, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return Files.write(Files.createDirectories(dir.resolve("src")).resolve(name), bytes);
    }

    private static List<Path> listFiles(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> !p.getFileName().toString().equals("src")).sorted().toList();
        }
    }
}
