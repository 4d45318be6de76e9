package dev.tuneloop.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import dev.tuneloop.model.qwen2.TinyModel;

/**
 * Where the {@code --model} and {@code --adapter} values of every verb point: a local folder as is, or a Hugging Face
 * hub id ({@code Qwen/Qwen2.5-0.5B-Instruct}, optionally {@code @revision}) downloaded once into the Hugging Face cache
 * ({@code HF_HOME}, {@code HF_ENDPOINT}, {@code HF_TOKEN}, {@code HF_HUB_OFFLINE} honoured).
 */
final class ModelPaths {
    private ModelPaths() {}

    /** A model folder holding {@code config.json} and {@code model*.safetensors*}. */
    static Path resolveModel(String model) throws java.io.IOException {
        if (model.equals(TINY)) {
            return tinyModel();
        }
        return ModelLocator.resolveModel("--model", model, cacheHome(), null, Progress.standard());
    }

    /**
     * The compute device: {@code TUNELOOP_DEVICE} ({@code cpu}, {@code gpu}, {@code gpu1}, …), default cpu. CPU fp32 is
     * the tested path; a GPU needs DJL's CUDA natives on the class path instead of the CPU ones.
     */
    static ai.djl.Device device() {
        String name = System.getenv("TUNELOOP_DEVICE");
        return name == null || name.isBlank() ? ai.djl.Device.cpu() : ai.djl.Device.fromName(name);
    }

    /** {@code --model tiny}: a tiny random Qwen2 with the real Qwen2.5 tokenizer, made once and cached. */
    static final String TINY = TinyModel.NAME;

    static Path tinyModel() throws java.io.IOException {
        System.err.println("tuneloop: --model tiny is a RANDOM tiny Qwen2 (hidden 128, 2 layers) with the real"
                + " Qwen2.5 tokenizer: it proves the pipeline, its answers are noise until trained");
        Path tokenizer = sharedDir().resolve("models").resolve("qwen2.5-0.5b-instruct");
        try {
            return ModelLocator.resolveModel("--model", TINY, cacheHome(), tokenizer, Progress.standard());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage()
                    + " (../shared/ beside the repository; set TUNELOOP_SHARED_DIR to point elsewhere)", e);
        }
    }

    /** Where tuneloop caches what it makes: {@code TUNELOOP_CACHE}, else {@code ~/.cache/tuneloop}. */
    static Path cacheHome() {
        String configured = System.getenv("TUNELOOP_CACHE");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "tuneloop");
    }

    /** {@code ../shared/} beside the repository (the launcher passes it; {@code TUNELOOP_SHARED_DIR} overrides). */
    static Path sharedDir() {
        String configured = System.getProperty("tuneloop.shared.dir");
        return Path.of(configured != null ? configured : "../shared").toAbsolutePath().normalize();
    }

    /** An adapter folder holding {@code adapter_config.json} and {@code adapter_model.safetensors}. */
    static Path resolveAdapter(String adapter) {
        Path dir = existingFolder("--adapter", adapter);
        if (!Files.isRegularFile(dir.resolve("adapter_config.json"))) {
            throw new IllegalArgumentException("--adapter " + adapter + ": folder " + dir + " has no adapter_config.json"
                    + " (expected a PEFT adapter folder: adapter_config.json + adapter_model.safetensors)");
        }
        return dir;
    }

    private static Path existingFolder(String option, String value) {
        if (value.isBlank()) {
            throw new IllegalArgumentException(option + " is empty");
        }
        Path dir = Path.of(value).toAbsolutePath().normalize();
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException(option + " " + value + ": no such folder (" + dir + ")");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + value + ": " + dir + " is a file, expected a folder");
        }
        return dir;
    }
}
