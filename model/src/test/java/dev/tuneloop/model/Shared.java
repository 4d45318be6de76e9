package dev.tuneloop.model;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** The read-only fixtures beside the repository ({@code ../shared/}). A missing file fails the test, never skips it. */
public final class Shared {
    private Shared() {}

    public static Path dir() {
        String configured = System.getProperty("tuneloop.shared.dir");
        Path dir = configured != null ? Path.of(configured) : Path.of("..", "shared");
        if (!Files.isDirectory(dir) && Files.isDirectory(Path.of("..", "..", "shared"))) {
            dir = Path.of("..", "..", "shared");
        }
        return dir.toAbsolutePath().normalize();
    }

    /** A file or folder under {@code ../shared/}; fails the calling test if it is missing. */
    public static Path path(String relative) {
        Path p = dir().resolve(relative);
        if (!Files.exists(p)) {
            fail("missing shared fixture " + p + " (tests need ../shared/ beside the repository; see ../shared/README.md)");
        }
        return p;
    }

    public static Path tinyGolden() {
        return path("fixtures/qwen2-tiny-golden");
    }

    public static Path qwenTokenizerDir() {
        return path("models/qwen2.5-0.5b-instruct");
    }

    public static Path squad(String file) {
        return path("data/squad-v1.1/" + file);
    }
}
