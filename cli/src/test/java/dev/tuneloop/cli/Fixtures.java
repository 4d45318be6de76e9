package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

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

    /** A tiny random Qwen2 (hidden 64, 2 layers) with the real Qwen2.5 tokenizer, in {@code into/tiny}. */
    static Path tinyQwen(Path into, long seed) throws IOException {
        return TinyModel.create(into.resolve("tiny"), path("models/qwen2.5-0.5b-instruct"), 64, 2, seed);
    }

    /**
     * A PEFT adapter for {@link #tinyQwen} with random A and B (r 8, alpha 16, all seven projections). The random
     * tiny model alone repeats the prompt's last token ("\n") and so answers blank; this noise makes it say words.
     */
    static Path noiseAdapter(Path into, Path model, long seed) throws IOException {
        Qwen2Config c = Qwen2Config.load(model);
        Path dir = Files.createDirectories(into.resolve("noise-adapter"));
        LoraConfig config = LoraConfig.of(8, 16, 0, LoraConfig.ALL_MODULES);
        SplittableRandom random = new SplittableRandom(seed);
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        int kv = c.numKeyValueHeads() * c.headDim();
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            for (String[] m : new String[][] {{"self_attn.q_proj", "h", "h"}, {"self_attn.k_proj", "h", "kv"},
                {"self_attn.v_proj", "h", "kv"}, {"self_attn.o_proj", "h", "h"}, {"mlp.gate_proj", "h", "i"},
                {"mlp.up_proj", "h", "i"}, {"mlp.down_proj", "i", "h"}}) {
                int in = m[1].equals("h") ? c.hiddenSize() : c.intermediateSize();
                int out = m[2].equals("h") ? c.hiddenSize() : m[2].equals("kv") ? kv : c.intermediateSize();
                String key = LoraAdapter.PREFIX + "model.layers." + layer + "." + m[0];
                writer.putFloats(key + ".lora_A.weight", new long[] {8, in}, gaussian(random, 8 * in));
                writer.putFloats(key + ".lora_B.weight", new long[] {out, 8}, gaussian(random, out * 8));
            }
        }
        writer.write(dir.resolve("adapter_model.safetensors"));
        config.write(dir, "tuneloop/tiny-qwen2-random");
        return dir;
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    /** The first {@code n} questions of the 12-article dev split, as a JSON Lines file {@code into/name}. */
    static Path devQuestions(Path into, String name, int n) throws IOException {
        List<String> lines = Files.readAllLines(path("data/squad-v1.1/dev-12-articles.jsonl"));
        return Files.write(into.resolve(name), lines.subList(0, n));
    }

    static long[] ids(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
