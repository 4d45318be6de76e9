package dev.tuneloop.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.tuneloop.model.hub.HubFiles;
import dev.tuneloop.model.hub.HubSettings;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;

/**
 * Where the {@code --model} and {@code --adapter} values of every verb point: a local folder as is, or a Hugging Face
 * hub id ({@code Qwen/Qwen2.5-0.5B-Instruct}, optionally {@code @revision}) downloaded once into the Hugging Face cache
 * ({@code HF_HOME}, {@code HF_ENDPOINT}, {@code HF_TOKEN}, {@code HF_HUB_OFFLINE} honoured).
 */
final class ModelPaths {
    private ModelPaths() {}

    /** A model folder holding {@code config.json} and {@code model*.safetensors*}. */
    static Path resolveModel(String model) throws java.io.IOException {
        Path dir = ModelLocator.resolve(model, HubSettings.fromEnvironment(), HubFiles.model(), Progress.standard());
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
            throw new IllegalArgumentException(option + " " + value + ": no such folder (" + dir + ")");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + value + ": " + dir + " is a file, expected a folder");
        }
        return dir;
    }
}
