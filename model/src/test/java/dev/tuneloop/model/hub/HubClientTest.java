package dev.tuneloop.model.hub;

import static dev.tuneloop.model.hub.FakeHub.COMMIT;
import static dev.tuneloop.model.hub.FakeHub.REPO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {
    /** config.json required, generation_config.json optional (absent from the fake repo), and the weights. */
    private static final HubFiles FILES = new HubFiles(List.of("config.json"), List.of("generation_config.json"), true);

    @TempDir
    Path cache;
    private FakeHub hub;
    private byte[] config;
    private byte[] weights;

    @BeforeEach
    void startHub() throws IOException {
        config = Files.readAllBytes(Shared.tinyGolden().resolve("config.json"));
        weights = Files.readAllBytes(Shared.tinyGolden().resolve("model.safetensors"));
        hub = new FakeHub().serve("config.json", config, false).serve("model.safetensors", weights, true);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private HubClient client(String token) {
        return new HubClient(new HubSettings(hub.endpoint(), token, cache, false), Duration.ofMillis(5));
    }

    private Path repoDir() {
        return cache.resolve("models--tiny--qwen2");
    }

    @Test
    void firstDownloadLaysOutTheCacheLikeHuggingFaceHub() throws IOException {
        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        Path repo = repoDir();
        assertEquals(repo.resolve("snapshots").resolve(COMMIT), snapshot);
        assertEquals(COMMIT, Files.readString(repo.resolve("refs/main")), "refs/main holds the commit, no newline");
        String configEtag = FakeHub.gitBlobSha1(config);
        String weightsEtag = FakeHub.sha256(weights);
        assertEquals(Path.of("../../blobs/" + configEtag), Files.readSymbolicLink(snapshot.resolve("config.json")));
        assertEquals(Path.of("../../blobs/" + weightsEtag),
                Files.readSymbolicLink(snapshot.resolve("model.safetensors")));
        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        try (var blobs = Files.list(repo.resolve("blobs"))) {
            assertEquals(List.of(configEtag, weightsEtag).stream().sorted().toList(),
                    blobs.map(p -> p.getFileName().toString()).sorted().toList(), "no .incomplete left behind");
        }
        assertTrue(Files.exists(repo.resolve(".no_exist").resolve(COMMIT).resolve("generation_config.json")),
                "an absent optional file is remembered as huggingface_hub does");
        assertFalse(Files.exists(snapshot.resolve("generation_config.json")));
        assertEquals(1, hub.requests("cdn", "GET").size(), "the LFS file comes from the CDN");
    }

    @Test
    void secondCallReusesTheCacheWithoutAnyGet() throws IOException {
        Path first = client(null).snapshot(REPO, "main", FILES, Progress.silent());
        hub.clearRequests();

        Path second = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        assertEquals(first, second);
        assertEquals(0, hub.count("GET"), "requests: " + hub.requests);
        // one HEAD learns that main still points at the same commit; the rest is known from the cache
        assertEquals(1, hub.requests.stream().filter(r -> r.path().contains("/resolve/main/")).count());
        assertArrayEquals(weights, Files.readAllBytes(second.resolve("model.safetensors")));
    }

    @Test
    void aCommitRevisionWithACompleteSnapshotNeedsNoNetwork() throws IOException {
        client(null).snapshot(REPO, "main", FILES, Progress.silent());
        hub.clearRequests();

        Path snapshot = client(null).snapshot(REPO, COMMIT, FILES, Progress.silent());

        assertEquals(repoDir().resolve("snapshots").resolve(COMMIT), snapshot);
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void tokenGoesToTheHubButNeverToTheCdn() throws IOException {
        hub.requiredToken = "hf_secret";

        client("hf_secret").snapshot(REPO, "main", FILES, Progress.silent());

        List<FakeHub.Request> toHub = hub.requests.stream().filter(r -> r.server().equals("hub")).toList();
        List<FakeHub.Request> toCdn = hub.requests.stream().filter(r -> r.server().equals("cdn")).toList();
        assertFalse(toHub.isEmpty());
        assertFalse(toCdn.isEmpty());
        toHub.forEach(r -> assertEquals("Bearer hf_secret", r.authorization(), "to the hub: " + r));
        toCdn.forEach(r -> assertNull(r.authorization(), "to the CDN: " + r));
        assertTrue(hub.requests.stream().anyMatch(r -> r.path().startsWith("/api/resolve-cache/")),
                "the relative redirect of a regular file was followed on the hub, with the token");
    }

    @Test
    void missingTokenIsAccessDenied() {
        hub.requiredToken = "hf_secret";

        IOException e = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "main", FILES, Progress.silent()));

        assertTrue(e.getMessage().startsWith("access denied to tiny/qwen2 (HTTP 401"), e.getMessage());
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
        IOException wrong = assertThrows(IOException.class,
                () -> client("hf_wrong").snapshot(REPO, "main", FILES, Progress.silent()));
        assertTrue(wrong.getMessage().contains("the token that is set was refused"), wrong.getMessage());
        assertFalse(wrong.getMessage().contains("hf_wrong"), "the token never appears in a message");
    }

    @Test
    void resumesWithRangeAfterTheConnectionDropsMidBody() throws IOException {
        int half = weights.length / 2;
        hub.cutGets.set(1);
        hub.cutAfterBytes = half;

        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        List<FakeHub.Request> gets = hub.requests("cdn", "GET");
        assertEquals(2, gets.size(), "one cut GET, one resumed: " + gets);
        assertNull(gets.get(0).range());
        // resumes from what arrived before the cut (the last bytes in flight may be lost with the connection)
        String range = gets.get(1).range();
        assertTrue(range != null && range.matches("bytes=\\d+-"), "second GET asks for a range: " + range);
        long from = Long.parseLong(range.substring(6, range.length() - 1));
        assertTrue(from > 0 && from <= half, "resumed from byte " + from + ", the server cut at " + half);
        assertEquals(FakeHub.sha256(weights), BlobDownload.sha256(snapshot.resolve("model.safetensors")));
    }

    @Test
    void aDownloadThatKeepsBreakingFailsKeepsItsIncompleteFileAndTheNextRunResumes() throws IOException {
        hub.cutGets.set(HubHttp.ATTEMPTS);
        hub.cutAfterBytes = 100_000;
        String sha = FakeHub.sha256(weights);
        Path incomplete = repoDir().resolve("blobs").resolve(sha + ".incomplete");

        IOException e = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "main", FILES, Progress.silent()));

        long kept = Files.size(incomplete);
        assertTrue(kept > 0 && kept <= 3 * 100_000, "kept " + kept + " bytes");
        assertTrue(e.getMessage().contains("stopped at " + kept + " of " + weights.length + " bytes after 3 attempts"),
                e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha)), "an .incomplete is never a blob");
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("model.safetensors"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));

        hub.clearRequests();
        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        assertEquals("bytes=" + kept + "-", hub.requests("cdn", "GET").get(0).range());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    @Test
    void resumesAnIncompleteFileLeftByAnEarlierRun() throws IOException {
        Path incomplete = repoDir().resolve("blobs").resolve(FakeHub.sha256(weights) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, Arrays.copyOf(weights, 1000));

        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        assertEquals("bytes=1000-", hub.requests("cdn", "GET").get(0).range());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void aServerThatIgnoresRangeMakesTheDownloadRestart() throws IOException {
        Path incomplete = repoDir().resolve("blobs").resolve(FakeHub.sha256(weights) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, new byte[] {1, 2, 3, 4, 5}); // not a prefix of the file: appending would corrupt it
        hub.ignoreRange = true;

        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        assertEquals("bytes=5-", hub.requests("cdn", "GET").get(0).range());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    @Test
    void aCorruptBodyFailsAndLeavesNoBlobNorSnapshotEntry() {
        hub.corruptBody = true;

        IOException e = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "main", FILES, Progress.silent()));

        String sha = FakeHub.sha256(weights);
        assertTrue(e.getMessage().contains("model.safetensors of tiny/qwen2 is corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains("the hub says " + sha), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha + ".incomplete")));
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("model.safetensors"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aFileInASubfolderLinksOneLevelDeeper() throws IOException {
        byte[] extra = "{\"nested\": true}".getBytes(StandardCharsets.UTF_8);
        hub.serve("onnx/extra.json", extra, false);

        Path snapshot = client(null).snapshot(REPO, "main", List.of("config.json", "onnx/extra.json"),
                Progress.silent());

        assertEquals(Path.of("../../../blobs/" + FakeHub.gitBlobSha1(extra)),
                Files.readSymbolicLink(snapshot.resolve("onnx/extra.json")));
        assertArrayEquals(extra, Files.readAllBytes(snapshot.resolve("onnx/extra.json")));
    }

    @Test
    void aFullDiskIsReportedWithThePathAndLeavesNoBlob() throws IOException {
        Path devFull = Path.of("/dev/full"); // every write fails with ENOSPC, as on a full disk (Linux)
        assertTrue(Files.exists(devFull), "this test needs Linux's /dev/full");
        String sha = FakeHub.sha256(weights);
        Path incomplete = repoDir().resolve("blobs").resolve(sha + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.createSymbolicLink(incomplete, devFull);

        IOException e = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "main", FILES, Progress.silent()));

        assertTrue(e.getMessage().startsWith("cannot write " + incomplete + " at byte 0"), e.getMessage());
        assertTrue(e.getMessage().contains("disk full?"), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("model.safetensors"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(1, hub.requests("cdn", "GET").size(), "a write error is not retried like a network error");
    }

    @Test
    void aMissingRequiredFileIsNamed() {
        IOException e = assertThrows(IOException.class, () -> client(null)
                .snapshot(REPO, "main", List.of("config.json", "tokenizer.json"), Progress.silent()));

        assertTrue(e.getMessage().startsWith("tokenizer.json not found in tiny/qwen2@main (commit " + COMMIT + ")"),
                e.getMessage());
    }

    @Test
    void anUnknownRepositoryOrRevisionIsNamed() {
        IOException repo = assertThrows(IOException.class,
                () -> client(null).snapshot("tiny/nothing", "main", FILES, Progress.silent()));
        assertTrue(repo.getMessage().startsWith("repository tiny/nothing not found on " + hub.endpoint()),
                repo.getMessage());

        IOException revision = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "v9", FILES, Progress.silent()));
        assertTrue(revision.getMessage().startsWith("revision 'v9' not found in tiny/qwen2"), revision.getMessage());
    }

    @Test
    void serverErrorsAreRetriedThenReportedWithUrlAndStatus() throws IOException {
        hub.headFailures.set(2);
        client(null).snapshot(REPO, "main", FILES, Progress.silent());
        assertEquals(3, hub.requests.stream().filter(r -> r.path().endsWith("/resolve/main/config.json")).count(),
                "two 503s, then the answer");

        hub.headFailures.set(-1);
        IOException e = assertThrows(IOException.class,
                () -> client(null).snapshot(REPO, "main", FILES, Progress.silent()));
        assertTrue(e.getMessage().startsWith("HEAD " + hub.endpoint() + "/tiny/qwen2/resolve/main/config.json "
                + "answered HTTP 503 3 times"), e.getMessage());
    }

    @Test
    void shardedWeightsAreFetchedThroughTheIndex() throws IOException {
        int half = weights.length / 2;
        byte[] shard1 = Arrays.copyOfRange(weights, 0, half);
        byte[] shard2 = Arrays.copyOfRange(weights, half, weights.length);
        String index = "{\"metadata\": {\"total_size\": " + weights.length + "}, \"weight_map\": {"
                + "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\","
                + "\"model.layers.0.mlp.up_proj.weight\": \"model-00001-of-00002.safetensors\","
                + "\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}}";
        hub.files.remove("model.safetensors");
        hub.serve("model.safetensors.index.json", index.getBytes(StandardCharsets.UTF_8), false)
                .serve("model-00001-of-00002.safetensors", shard1, true)
                .serve("model-00002-of-00002.safetensors", shard2, true);

        Path snapshot = client(null).snapshot(REPO, "main", FILES, Progress.silent());

        assertArrayEquals(shard1, Files.readAllBytes(snapshot.resolve("model-00001-of-00002.safetensors")));
        assertArrayEquals(shard2, Files.readAllBytes(snapshot.resolve("model-00002-of-00002.safetensors")));
        assertEquals(index, Files.readString(snapshot.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(snapshot.resolve("model.safetensors")));
        assertEquals(2, hub.requests("cdn", "GET").size());

        hub.clearRequests();
        client(null).snapshot(REPO, "main", FILES, Progress.silent());
        assertEquals(0, hub.count("GET"), "all shards reused: " + hub.requests);
    }

    @Test
    void hfEndpointFromTheEnvironmentIsHonoured() throws IOException {
        Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint() + "/", "HF_HUB_CACHE", cache.toString());
        HubSettings settings = HubSettings.fromLookup(env::get);

        Path snapshot = ModelLocator.resolve("tiny/qwen2@main", settings, FILES, Progress.silent());

        assertEquals(cache.resolve("models--tiny--qwen2/snapshots/" + COMMIT), snapshot);
        assertTrue(hub.count("HEAD") > 0, "the fake hub at HF_ENDPOINT was asked");
        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
    }

    @Test
    void anUnreachableHubFallsBackToACompleteCachedSnapshot() throws IOException {
        client(null).snapshot(REPO, "main", FILES, Progress.silent());
        HubSettings settings = new HubSettings(hub.endpoint(), null, cache, false);
        hub.close(); // nothing listens there any more

        Path snapshot = new HubClient(settings, Duration.ofMillis(5)).snapshot(REPO, "main", FILES, Progress.silent());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));

        IOException e = assertThrows(IOException.class, () -> new HubClient(settings, Duration.ofMillis(5))
                .snapshot(REPO, "main", List.of("config.json", "tokenizer.json"), Progress.silent()));
        assertTrue(e.getMessage().contains("lacks tokenizer.json"), e.getMessage());
        assertTrue(e.getMessage().contains("is unreachable"), e.getMessage());
        assertNotNull(e.getMessage());
    }
}
