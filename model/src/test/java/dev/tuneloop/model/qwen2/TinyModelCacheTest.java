package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyModelCacheTest {
    @TempDir
    Path cache;

    @Test
    void madeOnceThenReusedWithoutATokenizer() throws Exception {
        Path dir = TinyModel.cached(cache, Shared.qwenTokenizerDir());
        Qwen2Config config = Qwen2Config.load(dir);
        assertEquals(128, config.hiddenSize());
        assertEquals(2, config.numHiddenLayers());
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        FileTime made = Files.getLastModifiedTime(dir.resolve("model.safetensors"));

        Path again = TinyModel.cached(cache, cache.resolve("no-tokenizer-needed-now"));
        assertEquals(dir, again);
        assertEquals(made, Files.getLastModifiedTime(again.resolve("model.safetensors")));
        try (Stream<Path> entries = Files.list(dir.getParent())) {
            assertEquals(1, entries.count(), "no temporary folder is left behind");
        }
    }

    @Test
    void aMissingTokenizerIsNamed() {
        Path nowhere = cache.resolve("nowhere");
        var e = assertThrows(IllegalArgumentException.class, () -> TinyModel.cached(cache, nowhere));
        assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
    }
}
