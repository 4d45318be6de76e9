package dev.tuneloop.stack;

import dev.tuneloop.model.hub.HubFiles;
import dev.tuneloop.model.hub.HubId;
import dev.tuneloop.model.hub.HubSettings;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import dev.tuneloop.model.qwen2.TinyModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one base model of a stack, as the services are configured with it ({@code tuneloop.model.*}).
 *
 * @param location what the services load: {@code tiny}, or a local model folder (a hub id is fetched once by the
 *     stack, so three services do not download it at the same time)
 * @param id the id training requests must name and events carry as lineage
 * @param revision its revision
 * @param tokenizerDir Qwen2.5's tokenizer folder, for {@code tiny}
 * @param cacheDir where {@code tiny} is made once
 */
public record StackModel(String location, String id, String revision, Path tokenizerDir, Path cacheDir) {
    /** The id of the tiny random Qwen2 in requests and lineage. */
    public static final String TINY_ID = TinyModel.NAME;

    public boolean isTiny() {
        return TinyModel.NAME.equals(location);
    }

    /** The tiny random Qwen2 with the real tokenizer from {@code sharedDir/models/qwen2.5-0.5b-instruct}. */
    public static StackModel tiny(Path sharedDir, Path cacheDir) {
        Path tokenizer = sharedDir.resolve("models").resolve("qwen2.5-0.5b-instruct").toAbsolutePath().normalize();
        if (!Files.isRegularFile(tokenizer.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException("--model tiny needs the Qwen2.5 tokenizer: " + tokenizer
                    + " has no tokenizer.json (set TUNELOOP_SHARED_DIR or -Dtuneloop.shared.dir to ../shared)");
        }
        return new StackModel(TinyModel.NAME, TINY_ID, "main", tokenizer, cacheDir.toAbsolutePath());
    }

    /**
     * {@code tiny}, a local model folder (its id is the folder's name, revision {@code local}), or a hub id
     * {@code owner/name[@revision]} fetched into the Hugging Face cache now.
     */
    public static StackModel resolve(String model, Path sharedDir, Path cacheDir) throws IOException {
        if (TinyModel.NAME.equals(model)) {
            return tiny(sharedDir, cacheDir);
        }
        Path local = Path.of(model);
        if (Files.isDirectory(local)) {
            Path dir = ModelLocator.resolveModel("--model", model, cacheDir, null, Progress.standard());
            return new StackModel(dir.toString(), dir.getFileName().toString(), "local", null, cacheDir);
        }
        HubId id = HubId.parse(model);
        Path dir = ModelLocator.resolve(model, HubSettings.fromEnvironment(), HubFiles.model(), Progress.standard());
        return new StackModel(dir.toString(), id.repoId(), id.revision(), null, cacheDir);
    }
}
