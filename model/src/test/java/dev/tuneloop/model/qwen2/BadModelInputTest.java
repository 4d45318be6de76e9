package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.GoldenVariants.Tensor;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broken model folder fails with an exception that names the problem, never loads half-way or crashes. */
class BadModelInputTest {
    @TempDir
    Path tmp;

    private Path folder(ObjectNode config, Map<String, Tensor> tensors) throws Exception {
        return GoldenVariants.modelFolder(tmp.resolve("model"), config, tensors);
    }

    private Exception loadFails(Path dir) {
        return assertThrows(Exception.class, () -> Qwen2Weights.load(dir, Device.cpu()).close());
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    "message lacks '" + part + "': " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    @Test
    void missingTensor() throws Exception {
        Map<String, Tensor> t = GoldenVariants.modelTensors();
        t.remove("model.layers.1.mlp.down_proj.weight");
        Exception e = loadFails(folder(GoldenVariants.modelConfig(), t));
        assertMessage(e, "missing tensor model.layers.1.mlp.down_proj.weight", "[64, 160]");
    }

    @Test
    void unexpectedTensor() throws Exception {
        Map<String, Tensor> t = GoldenVariants.modelTensors();
        t.put("model.layers.0.self_attn.rotary_scale.weight", new Tensor(new long[] {4}, new float[4]));
        Exception e = loadFails(folder(GoldenVariants.modelConfig(), t));
        assertMessage(e, "unexpected", "model.layers.0.self_attn.rotary_scale.weight");
    }

    @Test
    void misshapedTensor() throws Exception {
        Map<String, Tensor> t = GoldenVariants.modelTensors();
        Tensor k = t.get("model.layers.0.self_attn.k_proj.weight"); // (32, 64): 2 KV heads of 16
        t.put("model.layers.0.self_attn.k_proj.weight", new Tensor(new long[] {64, 32}, k.values()));
        Exception e = loadFails(folder(GoldenVariants.modelConfig(), t));
        assertMessage(e, "model.layers.0.self_attn.k_proj.weight", "[64, 32]", "expected [32, 64]");
    }

    @Test
    void untiedConfigWithoutLmHead() throws Exception {
        ObjectNode c = GoldenVariants.modelConfig();
        c.put("tie_word_embeddings", false);
        Exception e = loadFails(folder(c, GoldenVariants.modelTensors()));
        assertMessage(e, "missing tensor lm_head.weight", "[1024, 64]");
    }

    @Test
    void unsupportedConfigs() throws Exception {
        Map<String, Tensor> tensors = GoldenVariants.modelTensors();
        ObjectNode llama = GoldenVariants.modelConfig();
        llama.put("model_type", "llama");
        assertMessage(loadFails(folder(llama, tensors)), "config.json", "model_type 'llama'", "qwen2");

        ObjectNode sliding = GoldenVariants.modelConfig();
        sliding.put("use_sliding_window", true);
        assertMessage(loadFails(folder(sliding, tensors)), "config.json", "use_sliding_window");

        ObjectNode heads = GoldenVariants.modelConfig();
        heads.put("hidden_size", 66);
        assertMessage(loadFails(folder(heads, tensors)), "hidden_size 66", "num_attention_heads 4");

        ObjectNode kv = GoldenVariants.modelConfig();
        kv.put("num_key_value_heads", 3);
        assertMessage(loadFails(folder(kv, tensors)), "num_attention_heads 4", "num_key_value_heads 3");

        ObjectNode missing = GoldenVariants.modelConfig();
        missing.remove("vocab_size");
        assertMessage(loadFails(folder(missing, tensors)), "vocab_size");

        ObjectNode scaled = GoldenVariants.modelConfig();
        scaled.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0);
        assertMessage(loadFails(folder(scaled, tensors)), "rope_scaling", "yarn");

        ObjectNode act = GoldenVariants.modelConfig();
        act.put("hidden_act", "gelu");
        assertMessage(loadFails(folder(act, tensors)), "hidden_act 'gelu'");

        ObjectNode notInt = GoldenVariants.modelConfig();
        notInt.put("num_hidden_layers", "2");
        assertMessage(loadFails(folder(notInt, tensors)), "num_hidden_layers", "integer");
    }

    @Test
    void missingOrBrokenConfigJson() throws Exception {
        Path dir = folder(GoldenVariants.modelConfig(), GoldenVariants.modelTensors());
        Files.delete(dir.resolve("config.json"));
        assertMessage(loadFails(dir), "config.json", dir.toString());

        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen2\", ");
        assertMessage(loadFails(dir), "config.json", "not valid JSON");

        Files.writeString(dir.resolve("config.json"), "[1, 2]");
        assertMessage(loadFails(dir), "config.json", "JSON object");
    }

    @Test
    void missingWeights() throws Exception {
        Path dir = folder(GoldenVariants.modelConfig(), GoldenVariants.modelTensors());
        Files.delete(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("pytorch_model.bin"), "not unpickled");
        assertMessage(loadFails(dir), "model.safetensors", "pytorch_model.bin");
    }

    @Test
    void truncatedSafetensorsFailsCleanly() throws Exception {
        Path dir = folder(GoldenVariants.modelConfig(), GoldenVariants.modelTensors());
        Path file = dir.resolve("model.safetensors");
        long size = Files.size(file);
        for (long keep : new long[] {size - 4, size / 2, 100, 5}) {
            Path copy = tmp.resolve("truncated-" + keep);
            Files.createDirectories(copy);
            Files.copy(dir.resolve("config.json"), copy.resolve("config.json"));
            Files.copy(file, copy.resolve("model.safetensors"));
            try (FileChannel ch = FileChannel.open(copy.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
                ch.truncate(keep);
            }
            Exception e = loadFails(copy);
            assertMessage(e, copy.resolve("model.safetensors").toString());
        }
    }
}
