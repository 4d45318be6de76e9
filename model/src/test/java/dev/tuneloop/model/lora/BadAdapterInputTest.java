package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.GoldenVariants.Tensor;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An adapter that does not fit the model, or uses a PEFT feature tuneloop does not implement, is refused by name. */
class BadAdapterInputTest {
    static final String Q0 = "base_model.model.model.layers.0.self_attn.q_proj";

    static Qwen2ForCausalLM lm;

    @TempDir
    Path tmp;
    int folders;

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @AfterEach
    void detach() {
        LoraAdapter.detach(lm);
    }

    private Path adapter(ObjectNode config, Map<String, Tensor> tensors) throws Exception {
        return GoldenVariants.adapterFolder(tmp.resolve("adapter-" + folders++), config, tensors);
    }

    private Path adapterWithConfig(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode c = GoldenVariants.adapterConfig();
        edit.accept(c);
        return adapter(c, GoldenVariants.adapterTensors());
    }

    private static Exception loadFails(Path dir) {
        return assertThrows(Exception.class, () -> LoraAdapter.load(lm, dir, false));
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    "message lacks '" + part + "': " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    @Test
    void adapterForAnotherModelNamesTheFirstMismatchingKeyAndBothShapes() throws Exception {
        Map<String, Tensor> t = GoldenVariants.adapterTensors();
        t.replaceAll((key, v) -> key.endsWith("lora_A.weight") ? new Tensor(new long[] {4, 32}, new float[4 * 32]) : v);
        assertMessage(loadFails(adapter(GoldenVariants.adapterConfig(), t)), Q0 + ".lora_A.weight", "[4, 32]", "[4, 64]");
    }

    @Test
    void rankInConfigDisagreesWithTensors() throws Exception {
        assertMessage(loadFails(adapterWithConfig(c -> c.put("r", 8))), Q0 + ".lora_A.weight", "[4, 64]", "[8, 64]");
    }

    @Test
    void extraModuleKeyIsNamed() throws Exception {
        Map<String, Tensor> t = GoldenVariants.adapterTensors();
        t.put("base_model.model.lm_head.lora_A.weight", new Tensor(new long[] {4, 64}, new float[4 * 64]));
        t.put("base_model.model.lm_head.lora_B.weight", new Tensor(new long[] {1024, 4}, new float[1024 * 4]));
        assertMessage(loadFails(adapter(GoldenVariants.adapterConfig(), t)), "base_model.model.lm_head.lora_A.weight",
                "and 1 more");
    }

    @Test
    void missingKeyIsNamed() throws Exception {
        Map<String, Tensor> t = GoldenVariants.adapterTensors();
        t.remove("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight");
        assertMessage(loadFails(adapter(GoldenVariants.adapterConfig(), t)),
                "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight", "[160, 4]");
    }

    @Test
    void failedLoadLeavesTheAttachedAdapterAsItWas() throws Exception {
        TokenBatch batch = GoldenVariants.goldenBatch();
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        float[] before = GoldenVariants.logits(lm, batch);
        Map<String, Tensor> t = GoldenVariants.adapterTensors();
        t.remove("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight");
        loadFails(adapter(GoldenVariants.adapterConfig(), t));
        assertEquals(-1, GoldenVariants.firstBitDifference(before, GoldenVariants.logits(lm, batch)));
    }

    @Test
    void pickleOnlyAdapterIsRefusedUnread() throws Exception {
        Path dir = tmp.resolve("pickle");
        Files.createDirectories(dir);
        GoldenVariants.writeJson(dir.resolve("adapter_config.json"), GoldenVariants.adapterConfig());
        Files.write(dir.resolve("adapter_model.bin"), new byte[] {(byte) 0x80, 0x02, 'c', 'o', 's', '\n'});
        Exception e = loadFails(dir);
        assertMessage(e, "adapter_model.bin", "never unpickled", "adapter_model.safetensors");
    }

    @Test
    void missingConfigOrWeights() throws Exception {
        Path dir = adapter(GoldenVariants.adapterConfig(), GoldenVariants.adapterTensors());
        Files.delete(dir.resolve("adapter_model.safetensors"));
        assertMessage(loadFails(dir), "adapter_model.safetensors");
        Path noConfig = adapter(GoldenVariants.adapterConfig(), GoldenVariants.adapterTensors());
        Files.delete(noConfig.resolve("adapter_config.json"));
        assertMessage(loadFails(noConfig), "adapter_config.json");
    }

    @Test
    void unsupportedPeftFeaturesAreRejectedByName() throws Exception {
        assertMessage(loadFails(adapterWithConfig(c -> c.put("use_dora", true))), "adapter_config.json", "use_dora",
                "DoRA");
        assertMessage(loadFails(adapterWithConfig(c -> c.putArray("modules_to_save").add("lm_head"))),
                "modules_to_save", "lm_head");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("bias", "all"))), "bias", "all");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("fan_in_fan_out", true))), "fan_in_fan_out");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("peft_type", "IA3"))), "peft_type 'IA3'");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("init_lora_weights", "pissa"))), "init_lora_weights",
                "pissa");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("lora_dropout", 1.5))), "lora_dropout 1.5");
        assertMessage(loadFails(adapterWithConfig(c -> c.putArray("target_modules").add("q_proj").add("qkv_proj"))),
                "target_modules", "qkv_proj");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("layers_pattern", "h"))), "layers_pattern");
        assertMessage(loadFails(adapterWithConfig(c -> c.put("megablocks_fusion", 2))), "unknown adapter_config key",
                "megablocks_fusion");
    }

    @Test
    void unknownKeysAtTheirDefaultAreAccepted() throws Exception {
        Path dir = adapterWithConfig(c -> {
            c.putNull("some_future_option");
            c.put("another_future_flag", false);
            c.putArray("exclude_modules");
        });
        LoraAdapter.load(lm, dir, false);
        assertEquals(28, LoraAdapter.parameters(lm).size());
    }
}
