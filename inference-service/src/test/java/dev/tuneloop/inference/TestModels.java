package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.TrainConfig;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tiny random Qwen2 (hidden 64, 2 layers, the real tokenizer) and adapters for it, made once per test JVM: A and B
 * (random non-zero B, so each answers differently from the base model and from each other; B carries a
 * {@code tuneloop_config.json} with a question-only prompt) and one made for a wider model (shapes that do not fit).
 */
public final class TestModels {
    public record Models(Path modelDir, Path adapterA, Path adapterB, Path wrongShape) {}

    private static Models models;

    private TestModels() {}

    public static synchronized Models get() {
        if (models == null) {
            try {
                Path root = Files.createTempDirectory("tuneloop-inference-test-");
                Path model = TinyModel.create(root.resolve("tiny"), tokenizerDir(), 64, 2, 5);
                Path wide = TinyModel.create(root.resolve("tiny-wide"), tokenizerDir(), 128, 2, 5);
                Path a = adapter(model, root.resolve("adapter-a"), 1, null);
                Path b = adapter(model, root.resolve("adapter-b"), 2, PromptMode.QUESTION_ONLY);
                Path wrong = adapter(wide, root.resolve("adapter-wide"), 3, null);
                models = new Models(model, a, b, wrong);
            } catch (IOException e) {
                throw new IllegalStateException("cannot make the test models: " + e, e);
            }
        }
        return models;
    }

    /** The Qwen2.5 tokenizer in {@code ../shared/}; a missing fixture fails, never skips. */
    public static Path tokenizerDir() {
        String configured = System.getProperty("tuneloop.shared.dir");
        Path shared = Path.of(configured != null ? configured : "../../shared").toAbsolutePath().normalize();
        Path dir = shared.resolve("models/qwen2.5-0.5b-instruct");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            fail("missing shared fixture " + dir + "/tokenizer.json (see ../shared/README.md)");
        }
        return dir;
    }

    private static Path adapter(Path modelDir, Path dir, long seed, PromptMode mode) throws IOException {
        return adapter(modelDir, dir, seed, mode, LoraConfig.of(4, 8, 0.0, List.of("q_proj", "v_proj", "down_proj")));
    }

    /** An adapter of {@code config} with random non-zero B; with {@code mode}, a tuneloop_config.json of that mode. */
    public static Path adapter(Path modelDir, Path dir, long seed, PromptMode mode, LoraConfig config)
            throws IOException {
        try (Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, Device.cpu())) {
            LoraAdapter.initialize(lm, config, seed);
            boolean gradMode = JniUtils.isGradMode(); // per thread; in-place edits of trainable arrays need it off
            JniUtils.setGradMode(false);
            try {
                for (var p : LoraAdapter.parameters(lm).entrySet()) {
                    if (p.getKey().contains("lora_B")) {
                        NDArray b = p.getValue().getArray();
                        b.addi(b.getManager().randomNormal(0, 2f, b.getShape(), b.getDataType()));
                    }
                }
            } finally {
                JniUtils.setGradMode(gradMode);
            }
            LoraAdapter.save(lm, config, dir);
        }
        if (mode != null) {
            TrainConfig trained = TrainConfig.builder(modelDir.toString(), "train.jsonl", "dev.jsonl")
                    .prompt(PromptTemplate.defaults(mode))
                    .maxSeqLen(384)
                    .build();
            trained.write(dir.resolve(ServingPrompt.CONFIG_FILE));
        }
        return dir;
    }

    /** Uploads every file of {@code adapterDir} under {@code prefix} and returns the promotion of them. */
    public static AdapterPromoted upload(ObjectStore store, Path adapterDir, String prefix, String servedModel,
            long generation, double f1) throws IOException {
        Map<String, StoredObject> files = new TreeMap<>();
        try (var list = Files.list(adapterDir)) {
            for (Path file : list.toList()) {
                String name = file.getFileName().toString();
                files.put(name, store.put(ObjectUri.parse(prefix + name), file));
            }
        }
        return promotion(servedModel, generation, files, f1);
    }

    public static AdapterPromoted promotion(String servedModel, long generation, Map<String, StoredObject> files,
            double f1) {
        return new AdapterPromoted(servedModel, generation, "checkpoint-" + generation, files, f1,
                "e".repeat(64), false, Instant.parse("2026-01-02T03:04:05Z"));
    }

    /** A promotion whose files are given by name only (for tests that never download). */
    public static AdapterPromoted fakePromotion(String servedModel, long generation) {
        StoredObject any = new StoredObject("s3://tuneloop/none", "0".repeat(64), 1);
        return promotion(servedModel, generation, Map.of(AdapterFiles.CONFIG, any, AdapterFiles.WEIGHTS, any), 50.0);
    }
}
