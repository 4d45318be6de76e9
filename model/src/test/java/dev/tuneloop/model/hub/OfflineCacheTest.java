package dev.tuneloop.model.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache laid out by hand exactly as Python's huggingface_hub writes it, used with no server running at all:
 * any request would fail to connect, so a passing test made none.
 */
class OfflineCacheTest {
    private static final String COMMIT = "a09a35458c702241b6bd0c2e0fcb1ad0deb1ca75";
    private static final HubFiles FILES = new HubFiles(List.of("config.json"), List.of("generation_config.json"), true);

    @TempDir
    Path cache;
    private byte[] config;
    private byte[] weights;
    private URI deadEndpoint;

    @BeforeEach
    void layOutCache() throws IOException {
        config = Files.readAllBytes(Shared.tinyGolden().resolve("config.json"));
        weights = Files.readAllBytes(Shared.tinyGolden().resolve("model.safetensors"));
        Path repo = cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT, StandardCharsets.UTF_8);
        Files.createDirectories(repo.resolve("blobs"));
        String configEtag = FakeHub.gitBlobSha1(config);
        String weightsEtag = FakeHub.sha256(weights);
        Files.write(repo.resolve("blobs").resolve(configEtag), config);
        Files.write(repo.resolve("blobs").resolve(weightsEtag), weights);
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT));
        Files.createSymbolicLink(snapshot.resolve("config.json"), Path.of("../../blobs/" + configEtag));
        Files.createSymbolicLink(snapshot.resolve("model.safetensors"), Path.of("../../blobs/" + weightsEtag));
        try (ServerSocket s = new ServerSocket(0)) {
            deadEndpoint = URI.create("http://127.0.0.1:" + s.getLocalPort()); // closed again: nothing listens
        }
    }

    private HubClient offline() {
        return new HubClient(new HubSettings(deadEndpoint, "hf_unused", cache, true));
    }

    @Test
    void offlineModeUsesTheSnapshotThatRefsMainPointsAt() throws IOException {
        Path snapshot = offline().snapshot("Qwen/Qwen2.5-0.5B-Instruct", "main", FILES, Progress.silent());

        assertEquals(cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/" + COMMIT), snapshot);
        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    @Test
    void offlineModeAcceptsACommitShaAsRevision() throws IOException {
        Path snapshot = offline().snapshot("Qwen/Qwen2.5-0.5B-Instruct", COMMIT, FILES, Progress.silent());

        assertTrue(snapshot.endsWith(Path.of("snapshots", COMMIT)));
    }

    @Test
    void offlineThroughTheLocatorWithHfHubOffline() throws IOException {
        HubSettings settings = HubSettings.fromLookup(name -> switch (name) {
            case "HF_HUB_OFFLINE" -> "1";
            case "HF_HUB_CACHE" -> cache.toString();
            case "HF_ENDPOINT" -> deadEndpoint.toString();
            default -> null;
        });

        Path snapshot = ModelLocator.resolve("Qwen/Qwen2.5-0.5B-Instruct", settings, FILES, Progress.silent());

        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
    }

    @Test
    void offlineModeNamesWhatIsMissing() {
        IOException e = assertThrows(IOException.class, () -> offline().snapshot("Qwen/Qwen2.5-0.5B-Instruct", "main",
                List.of("config.json", "tokenizer.json"), Progress.silent()));

        assertTrue(e.getMessage().contains("lacks tokenizer.json"), e.getMessage());
        assertTrue(e.getMessage().contains("offline mode is on (HF_HUB_OFFLINE=1)"), e.getMessage());
    }

    @Test
    void aDanglingSymlinkCountsAsMissing() throws IOException {
        Path repo = cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct");
        Files.delete(repo.resolve("blobs").resolve(FakeHub.sha256(weights)));

        IOException e = assertThrows(IOException.class,
                () -> offline().snapshot("Qwen/Qwen2.5-0.5B-Instruct", "main", FILES, Progress.silent()));

        assertTrue(e.getMessage().contains("lacks model.safetensors"), e.getMessage());
    }

    @Test
    void offlineModeWithoutTheRevisionInTheCacheSaysSo() {
        IOException e = assertThrows(IOException.class,
                () -> offline().snapshot("Qwen/Qwen2.5-0.5B-Instruct", "v2", FILES, Progress.silent()));

        assertTrue(e.getMessage().startsWith("Qwen/Qwen2.5-0.5B-Instruct@v2 is not in the cache"), e.getMessage());
        assertTrue(e.getMessage().contains("no refs/v2"), e.getMessage());
        assertTrue(e.getMessage().contains("offline mode is on"), e.getMessage());
    }

    @Test
    void anUnreachableHubWithAnEmptyCacheSaysBoth() {
        HubClient online = new HubClient(new HubSettings(deadEndpoint, null, cache, false));

        IOException e = assertThrows(IOException.class,
                () -> online.snapshot("other/model", "main", FILES, Progress.silent()));

        assertTrue(e.getMessage().startsWith("other/model@main is not in the cache"), e.getMessage());
        assertTrue(e.getMessage().contains("the hub at " + deadEndpoint + " is unreachable"), e.getMessage());
    }
}
