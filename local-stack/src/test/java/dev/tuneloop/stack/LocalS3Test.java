package dev.tuneloop.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.Sha256;
import dev.tuneloop.storage.StorageSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local S3 server keeps objects (and their sha256 metadata) on disk across restarts and checks credentials. */
class LocalS3Test {
    @TempDir
    Path dir;

    @Test
    void anObjectSurvivesARestartWithItsSha256() throws Exception {
        byte[] data = "{\"question\": \"Who?\"}\n".getBytes(StandardCharsets.UTF_8);
        ObjectUri uri = ObjectUri.parse("s3://tuneloop/datasets/demo/train.jsonl");
        StoredObject put;
        try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "tuneloop");
                ObjectStore store = new ObjectStore(s3.settings())) {
            put = store.putBytes(uri, data);
            assertEquals(Sha256.of(data), put.sha256());
        }
        try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "tuneloop");
                ObjectStore store = new ObjectStore(s3.settings())) {
            assertTrue(store.exists(uri), uri + " survived the restart");
            Path copy = dir.resolve("copy");
            store.get(uri, copy, put.sha256());
            assertEquals(new String(data, StandardCharsets.UTF_8), Files.readString(copy));

            StorageSettings wrong = new StorageSettings(s3.endpoint(), LocalS3.ACCESS_KEY, "not-the-secret", null,
                    "tuneloop");
            try (ObjectStore intruder = new ObjectStore(wrong)) {
                assertThrows(Exception.class, () -> intruder.exists(uri), "a wrong secret is refused");
            }
        }
    }

    @Test
    void aBusyRequestedPortIsNamed() throws Exception {
        try (LocalS3 first = LocalS3.start(dir.resolve("a"), 0, "tuneloop")) {
            int busy = Integer.parseInt(first.endpoint().substring(first.endpoint().lastIndexOf(':') + 1));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> LocalS3.start(dir.resolve("b"), busy, "tuneloop"));
            assertTrue(e.getMessage().contains("port " + busy + " for S3 is busy"), e.getMessage());
        }
    }
}
