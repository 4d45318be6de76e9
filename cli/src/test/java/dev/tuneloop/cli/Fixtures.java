package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The read-only shared fixtures (system property {@code tuneloop.shared.dir}, set by surefire). Missing ones fail. */
final class Fixtures {
    private Fixtures() {}

    static Path path(String relative) {
        String dir = System.getProperty("tuneloop.shared.dir");
        if (dir == null) {
            fail("system property tuneloop.shared.dir is not set (surefire sets it to ../shared)");
        }
        Path p = Path.of(dir).resolve(relative).toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            fail("missing shared fixture " + p + " (see ../shared/README.md)");
        }
        return p;
    }

    static Path tinyGolden() {
        return path("fixtures/qwen2-tiny-golden");
    }

    static JsonNode goldenJson() throws IOException {
        return new ObjectMapper().readTree(Files.readString(tinyGolden().resolve("golden.json")));
    }

    /** A copy of the tiny model holding only config.json and model.safetensors (plus {@code extra} shared files). */
    static Path minimalModel(Path into, String... extra) throws IOException {
        Path dir = Files.createDirectories(into.resolve("model"));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(tinyGolden().resolve(f), dir.resolve(f));
        }
        for (String f : extra) {
            Path src = path(f);
            Files.copy(src, dir.resolve(src.getFileName()));
        }
        return dir;
    }

    /** A copy of the tiny model's adapter holding only adapter_config.json and adapter_model.safetensors. */
    static Path minimalAdapter(Path into) throws IOException {
        Path dir = Files.createDirectories(into.resolve("adapter"));
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            Files.copy(tinyGolden().resolve("adapter").resolve(f), dir.resolve(f));
        }
        return dir;
    }

    static long[] ids(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
