package dev.tuneloop.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the {@code --model} and {@code --adapter} values of every verb point. For now only local folders; hub ids
 * ({@code Qwen/Qwen2.5-0.5B-Instruct}) will be resolved here through the hub downloader.
 */
final class ModelPaths {
    private ModelPaths() {}

    /** A model folder holding {@code config.json} and {@code model*.safetensors*}. */
    static Path resolveModel(String model) {
        Path dir = existingFolder("--model", model);
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("--model " + model + ": folder " + dir + " has no config.json"
                    + " (expected a Hugging Face model folder: config.json + model*.safetensors)");
        }
        return dir;
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
            throw new IllegalArgumentException(option + " " + value + ": no such folder (" + dir + ");"
                    + " only local folders are supported so far, not hub ids");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + value + ": " + dir + " is a file, expected a folder");
        }
        return dir;
    }
}
