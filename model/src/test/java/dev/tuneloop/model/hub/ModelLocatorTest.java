package dev.tuneloop.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelLocatorTest {
    @TempDir
    Path cache;

    /** Points at a closed port and is offline: a hub id that got past validation would fail on the cache. */
    private HubSettings settings() {
        return new HubSettings(URI.create("http://127.0.0.1:9"), null, cache, true);
    }

    @Test
    void anExistingFolderIsUsedAsIs() throws IOException {
        Path tiny = Shared.tinyGolden();

        assertEquals(tiny, ModelLocator.resolve(tiny.toString(), settings(), HubFiles.model(), Progress.silent()));
    }

    @Test
    void aMissingFolderPathIsAnErrorNotAHubId() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                ModelLocator.resolve("./no/such/folder", settings(), HubFiles.model(), Progress.silent()));

        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aFileIsNotAModelFolder() {
        String file = Shared.tinyGolden().resolve("config.json").toString();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                ModelLocator.resolve(file, settings(), HubFiles.model(), Progress.silent()));

        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/b/c", "-x/y", "x/.y", "owner", "x/y@", "x/y@../../etc", "x/..y", "a--b/c", "x/y z",
            "x/y/"})
    void invalidIdsAreRejectedNamingTheId(String model) {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> ModelLocator.resolve(model, settings(), HubFiles.model(), Progress.silent()));

        assertTrue(e.getMessage().contains(model), e.getMessage());
        assertEquals(List.of(), listCache(), "nothing was written for " + model);
    }

    @Test
    void anEmptyModelIsRejected() {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> ModelLocator.resolve(" ", settings(), HubFiles.model(), Progress.silent()));

        assertTrue(e.getMessage().contains("--model is empty"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc", "..", "a/b/c", "-x/y", "", ".hidden/x", "x/y.", "x/y@-main"})
    void hubIdValidationRejectsTraversalAndOddNames(String id) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HubId.parse(id));

        assertTrue(id.isEmpty() ? e.getMessage().contains("empty") : e.getMessage().contains("'" + id + "'"),
                e.getMessage());
    }

    @Test
    void theClientValidatesRepoIdsToo() {
        HubClient client = new HubClient(settings());

        assertThrows(IllegalArgumentException.class,
                () -> client.snapshot("../etc", "main", HubFiles.model(), Progress.silent()));
        assertThrows(IllegalArgumentException.class,
                () -> client.snapshot("x/y", "../../outside", HubFiles.model(), Progress.silent()));
        assertThrows(IllegalArgumentException.class,
                () -> client.snapshot("x/y", "main", List.of("../config.json"), Progress.silent()));
        assertEquals(List.of(), listCache());
    }

    @Test
    void validIdsParse() {
        assertEquals(new HubId("Qwen", "Qwen2.5-0.5B-Instruct", "main"), HubId.parse("Qwen/Qwen2.5-0.5B-Instruct"));
        HubId pinned = HubId.parse("Qwen/Qwen2.5-0.5B-Instruct@7ae557604adf67be50417f59c2c2f167def9a775");
        assertEquals("7ae557604adf67be50417f59c2c2f167def9a775", pinned.revision());
        assertEquals("models--Qwen--Qwen2.5-0.5B-Instruct", pinned.cacheFolderName());
        assertEquals("refs/pr/1", HubId.parse("o/n@refs/pr/1").revision());
    }

    private List<Path> listCache() {
        try (var s = Files.list(cache)) {
            return s.toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
