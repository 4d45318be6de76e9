package dev.tuneloop.model.qwen2;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A tiny random Qwen2 with the real Qwen2.5 tokenizer and vocabulary, written as a Hugging Face model folder: proves
 * pipelines in seconds (its answers are noise until trained). LoRA cannot change embeddings, norms or a tied head, so
 * with Hugging Face's usual 0.02 embedding init the logits would stay within a few units and the loss could not fall
 * far; the embedding is initialised with std 0.2 instead.
 */
public final class TinyModel {
    public static final double EMBED_STD = 0.2;
    /** The model name that means "the cached tiny model" wherever a model location is accepted. */
    public static final String NAME = "tiny";
    /** The cached tiny model's sizes and seed, part of its folder name. */
    private static final int CACHED_HIDDEN = 128;
    private static final int CACHED_LAYERS = 2;
    private static final long CACHED_SEED = 1;

    private TinyModel() {}

    /**
     * @param tokenizerDir a folder with Qwen2.5's {@code tokenizer.json} (and optionally {@code tokenizer_config.json})
     */
    public static Path create(Path dir, Path tokenizerDir, int hidden, int layers, long seed) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("model_type", "qwen2");
        c.put("_name_or_path", "tuneloop/tiny-qwen2-random");
        c.put("hidden_act", "silu");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", hidden * 5 / 2);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 151936);
        c.put("max_position_embeddings", 32768);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", 1000000.0);
        c.put("tie_word_embeddings", true);
        c.put("use_sliding_window", false);
        c.put("bos_token_id", 151643);
        c.putArray("eos_token_id").add(151645).add(151643);
        c.put("torch_dtype", "float32");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(c));
        Files.writeString(dir.resolve("generation_config.json"),
                "{\n  \"eos_token_id\": [151645, 151643],\n  \"pad_token_id\": 151643\n}\n");
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            if (Files.exists(tokenizerDir.resolve(f))) {
                Files.copy(tokenizerDir.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Qwen2Config config = Qwen2Config.load(dir);
        try (Qwen2ForCausalLM lm = Qwen2Weights.random(config, Device.cpu(), seed, EMBED_STD)) {
            Qwen2Weights.save(lm, dir);
        }
        return dir;
    }

    /**
     * The tiny model (hidden 128, 2 layers, seed 1) under {@code cacheRoot/models/}, made on first use. It appears
     * complete or not at all (written under a temporary name, then renamed), so concurrent first uses are safe.
     *
     * @param tokenizerDir a folder with Qwen2.5's {@code tokenizer.json}, needed only the first time
     */
    public static Path cached(Path cacheRoot, Path tokenizerDir) throws IOException {
        Path dir = cacheRoot.resolve("models")
                .resolve("tiny-qwen2-h" + CACHED_HIDDEN + "-l" + CACHED_LAYERS + "-seed" + CACHED_SEED);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return dir;
        }
        if (!Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException("the tiny model needs the Qwen2.5 tokenizer: " + tokenizerDir
                    + " has no tokenizer.json");
        }
        Files.createDirectories(dir.getParent());
        Path tmp = Files.createTempDirectory(dir.getParent(), "." + dir.getFileName() + ".tmp-");
        try {
            create(tmp, tokenizerDir, CACHED_HIDDEN, CACHED_LAYERS, CACHED_SEED);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
            // another process made it first: use theirs
        } finally {
            deleteTree(tmp);
        }
        return dir;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
