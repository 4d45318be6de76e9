package dev.tuneloop.model.hub;

import dev.tuneloop.model.qwen2.TinyModel;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@code --model} into a local folder: a folder path is used as is; a hub id {@code owner/name[@revision]}
 * is fetched into (or found in) the Hugging Face cache.
 */
public final class ModelLocator {
    private static final Logger log = LoggerFactory.getLogger(ModelLocator.class);

    private ModelLocator() {}

    /**
     * A model folder for {@code model}: {@link TinyModel#NAME} → the tiny random Qwen2 made once under
     * {@code tinyCache} with the tokenizer of {@code tinyTokenizer} (which may be null when no tiny model is
     * expected); otherwise {@link #resolve(String, HubSettings, HubFiles, Progress)} with the environment's hub
     * settings. The folder must hold {@code config.json}. {@code what} names the setting in errors
     * ({@code --model}, {@code tuneloop.model.location}, …).
     */
    public static Path resolveModel(String what, String model, Path tinyCache, Path tinyTokenizer, Progress progress)
            throws IOException {
        Path dir;
        if (TinyModel.NAME.equals(model)) {
            if (tinyTokenizer == null) {
                throw new IllegalArgumentException(what + "=" + TinyModel.NAME + " needs the Qwen2.5 tokenizer folder");
            }
            try {
                dir = TinyModel.cached(tinyCache, tinyTokenizer);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + " " + model + ": " + e.getMessage(), e);
            }
        } else {
            dir = resolve(model, HubSettings.fromEnvironment(), HubFiles.model(), progress);
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(what + " " + model + ": folder " + dir + " has no config.json"
                    + " (expected a Hugging Face model folder: config.json + model*.safetensors)");
        }
        return dir;
    }

    /** {@code files} are all required; see {@link #resolve(String, HubSettings, HubFiles, Progress)}. */
    public static Path resolve(String model, HubSettings settings, List<String> files, Progress progress)
            throws IOException {
        return resolve(model, settings, HubFiles.required(files), progress);
    }

    /**
     * An existing folder, or anything that looks like a path ({@code ./}, {@code ../}, {@code /}, {@code ~}) →
     * that folder, as is. {@code owner/name} or {@code owner/name@revision} → the hub snapshot folder. Anything
     * else → {@link IllegalArgumentException} naming the value.
     */
    public static Path resolve(String model, HubSettings settings, HubFiles files, Progress progress)
            throws IOException {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("--model is empty: give a local folder or a hub id like "
                    + "Qwen/Qwen2.5-0.5B-Instruct");
        }
        Path local = localPath(model);
        if (local != null && Files.exists(local)) {
            if (!Files.isDirectory(local)) {
                throw new IllegalArgumentException("--model " + model + " is a file (" + local.toAbsolutePath()
                        + "), expected the model's folder");
            }
            Path dir = local.toAbsolutePath().normalize();
            log.info("model {}: local folder {}", model, dir);
            return dir;
        }
        if (looksLikePath(model)) {
            throw new IllegalArgumentException("--model " + model + ": folder " + (local == null ? model
                    : local.toAbsolutePath().normalize()) + " does not exist");
        }
        HubId id;
        try {
            id = HubId.parse(model);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model '" + model + "' is neither an existing folder nor a hub id "
                    + "(owner/name or owner/name@revision): " + e.getMessage(), e);
        }
        return new HubClient(settings).snapshot(id.repoId(), id.revision(), files, progress);
    }

    private static boolean looksLikePath(String model) {
        return model.startsWith("./") || model.startsWith("../") || model.startsWith("/") || model.startsWith("~")
                || model.equals(".") || model.equals("..")
                || (!File.separator.equals("/") && model.contains(File.separator));
    }

    private static Path localPath(String model) {
        try {
            if (model.equals("~") || model.startsWith("~/")) {
                return Path.of(System.getProperty("user.home")).resolve(model.substring(1).replaceFirst("^/", ""));
            }
            return Path.of(model);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
