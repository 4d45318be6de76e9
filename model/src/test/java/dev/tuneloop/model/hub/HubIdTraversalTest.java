package dev.tuneloop.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Model ids that try to leave the hub cache (or reach another repository on the hub) are refused naming the value
 * before any network or file access: a live fake hub sees no request and the cache stays empty.
 */
class HubIdTraversalTest {
    @TempDir
    Path cache;
    private FakeHub hub;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub().serve("config.json", "{}".getBytes(), false);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/../../b", "a/..", "../x/y", "x/y@../../../etc", "x/y@refs/../../main", "%2e%2e/x",
        "x/%2e%2e", "..%2fx/y", "x/y@..%2F..%2Fetc", "x%2F..%2F..%2Fy/z", "x/y%00", "x/y@main%00", "x\\y/z",
        "x/y\\..\\..", "C:\\models/x"})
    void traversalAndEncodedIdsAreRefusedBeforeTheHubOrTheCacheIsTouched(String id) throws IOException {
        HubSettings online = new HubSettings(hub.endpoint(), null, cache, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelLocator.resolve(id, online, HubFiles.model(), Progress.silent()));
        assertTrue(e.getMessage().contains(id), e.getMessage());
        assertEquals(0, hub.requests.size(), "requests reached the hub for " + id + ": " + hub.requests);
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(List.of(), files.toList(), "the cache was written for " + id);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc", "/nonexistent/model", "./../../etc/passwd", "~/nonexistent-model-folder"})
    void absolutePathsAreLocalFoldersNeverHubIds(String path) throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelLocator.resolveModel("--model", path, cache, null, Progress.silent()));
        assertTrue(e.getMessage().contains(path), e.getMessage());
        assertEquals(0, hub.requests.size(), "requests reached the hub for " + path);
    }
}
