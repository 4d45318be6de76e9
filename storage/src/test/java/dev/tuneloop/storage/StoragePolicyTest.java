package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StoragePolicyTest {
    private final StoragePolicy policy = StoragePolicy.of("tuneloop", "datasets/", "runs/");

    @Test
    void allowsKeysUnderAnAllowedPrefix() {
        assertEquals(new ObjectUri("tuneloop", "datasets/squad/train.jsonl"),
                policy.requireAllowed("s3://tuneloop/datasets/squad/train.jsonl"));
        assertEquals("runs/r1/", policy.requireAllowed("s3://tuneloop/runs/r1/").key());
    }

    @Test
    void rejectsOtherBucketsNamingUriAndRule() {
        PolicyViolationException e = assertThrows(PolicyViolationException.class,
                () -> policy.requireAllowed("s3://other-bucket/datasets/x.jsonl"));
        assertEquals("s3://other-bucket/datasets/x.jsonl", e.location());
        assertEquals("the bucket must be 'tuneloop'", e.rule());
        assertTrue(e.getMessage().contains("s3://other-bucket/datasets/x.jsonl"), e.getMessage());
    }

    @Test
    void rejectsKeysOutsideThePrefixesIncludingLookAlikeSiblings() {
        for (String uri : List.of("s3://tuneloop/secrets/key", "s3://tuneloop/runs-other/x", "s3://tuneloop/runs",
                "s3://tuneloop/Datasets/x")) {
            PolicyViolationException e = assertThrows(PolicyViolationException.class, () -> policy.requireAllowed(uri));
            assertEquals("the key must start with one of [datasets/, runs/]", e.rule(), uri);
            assertEquals(uri, e.location());
        }
    }

    @Test
    void rejectsPathTraversalOutOfAnAllowedPrefix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> policy.requireAllowed("s3://tuneloop/runs/../secrets/key"));
        assertTrue(e.getMessage().contains("'s3://tuneloop/runs/../secrets/key'")
                && e.getMessage().contains("path traversal"), e.getMessage());
    }

    @Test
    void refusesPrefixesThatWouldMatchSiblings() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoragePolicy.of("tuneloop", "runs"));
        assertTrue(e.getMessage().contains("'runs' must end with '/'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StoragePolicy.of("tuneloop", "/runs/"));
        assertThrows(IllegalArgumentException.class, () -> StoragePolicy.of("tuneloop", "runs/../"));
        assertThrows(IllegalArgumentException.class, () -> StoragePolicy.of("tuneloop"));
        assertThrows(IllegalArgumentException.class, () -> StoragePolicy.of("Tune_Loop", "runs/"));
    }

    @Test
    void httpsIsClosedByDefault() {
        PolicyViolationException e = assertThrows(PolicyViolationException.class,
                () -> policy.requireAllowedHttps("https://huggingface.co/datasets/squad/train.json"));
        assertEquals("host 'huggingface.co' is not allowed: no https host is (the allow-list"
                + " tuneloop.storage.allowed-https-hosts is empty)", e.rule());
    }

    @Test
    void httpsAllowListMatchesHostAndPort() {
        StoragePolicy open = new StoragePolicy("tuneloop", List.of("runs/"),
                List.of("Data.Example.org", "mirror.example.org:8443"));
        assertEquals("data.example.org",
                open.requireAllowedHttps("https://data.example.org/squad/dev-v1.1.json").getHost());
        open.requireAllowedHttps("https://DATA.example.org:443/x");
        open.requireAllowedHttps("https://mirror.example.org:8443/x");
        assertRule(open, "https://mirror.example.org/x", "host 'mirror.example.org' is not in the https allow-list");
        assertRule(open, "https://data.example.org:8443/x", "host 'data.example.org:8443' is not in");
        assertRule(open, "https://evil.example.org/x", "host 'evil.example.org' is not in");
        assertRule(open, "https://data.example.org.evil.net/x", "is not in");
        assertRule(open, "http://data.example.org/x", "only https:// URLs are allowed, got scheme http");
        assertRule(open, "s3://tuneloop/runs/x", "only https:// URLs are allowed, got scheme s3");
        PolicyViolationException withSecret = assertThrows(PolicyViolationException.class,
                () -> open.requireAllowedHttps("https://user:s3cr3t-pw@data.example.org/x"));
        assertEquals("location 'https://****@data.example.org/x' is not allowed: credentials in the URL are not"
                + " allowed", withSecret.getMessage(), "the message must not repeat the credentials");
        assertRule(open, "https://data.example.org/a/../../etc/passwd", "'..' segment");
        assertRule(open, "https://data.example.org/a/%2e%2e/etc", "'..' segment");
        assertRule(open, "https://data example.org/x", "not a valid URL");
        assertThrows(IllegalArgumentException.class,
                () -> new StoragePolicy("tuneloop", List.of("runs/"), List.of("https://data.example.org")));
    }

    private static void assertRule(StoragePolicy policy, String url, String rule) {
        PolicyViolationException e = assertThrows(PolicyViolationException.class,
                () -> policy.requireAllowedHttps(url));
        assertEquals(url, e.location());
        assertTrue(e.rule().contains(rule), () -> "rule '" + e.rule() + "' lacks '" + rule + "'");
    }
}
