package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsAndHashTest {
    @Test
    void settingsNeverPrintTheSecret() {
        StorageSettings settings = new StorageSettings("http://minio:9000", "tuneloop", "s3cr3t-value", null, "tuneloop");
        assertFalse(settings.toString().contains("s3cr3t-value"), settings.toString());
        assertTrue(settings.toString().contains("secretKey=****"), settings.toString());
        assertEquals("us-east-1", settings.region());
    }

    @Test
    void settingsRejectEndpointsThatAreNotServerRoots() {
        assertThrows(IllegalArgumentException.class,
                () -> new StorageSettings("minio:9000", "a", "s", null, "tuneloop"));
        assertThrows(IllegalArgumentException.class,
                () -> new StorageSettings("http://minio:9000/tuneloop", "a", "s", null, "tuneloop"));
        assertThrows(IllegalArgumentException.class,
                () -> new StorageSettings("http://minio:9000", "a", " ", null, "tuneloop"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StorageSettings("http://minio:9000", "a", "s", null, "Bad_Bucket"));
        assertTrue(e.getMessage().contains("Bad_Bucket"), e.getMessage());
    }

    @Test
    void backoffDoublesUpToTheCap() {
        RetryPolicy policy = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(350));
        assertEquals(Duration.ofMillis(100), policy.backoffAfter(1));
        assertEquals(Duration.ofMillis(200), policy.backoffAfter(2));
        assertEquals(Duration.ofMillis(350), policy.backoffAfter(3));
        assertEquals(Duration.ofMillis(350), policy.backoffAfter(4));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO));
    }

    @Test
    void sha256MatchesTheFips180Vectors(@TempDir Path dir) throws IOException {
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.of(new byte[0]));
        byte[] million = "a".repeat(1_000_000).getBytes(StandardCharsets.US_ASCII);
        Path file = Files.write(dir.resolve("a.txt"), million);
        assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Sha256.of(file));
        assertEquals(Sha256.of(file), Sha256.of(new ByteArrayInputStream(million)));
        assertTrue(Sha256.isHex(Sha256.of(file)));
        assertFalse(Sha256.isHex("CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0"));
    }
}
