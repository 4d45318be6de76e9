package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.safetensors.DType;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving an adapter writes what PEFT writes and what it reads back, and reloading it gives the same model. */
class AdapterRoundTripTest {
    static Qwen2ForCausalLM lm;
    static TokenBatch batch;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        batch = GoldenVariants.goldenBatch();
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void savedAdapterReloadsToIdenticalLogits() throws Exception {
        LoraConfig original = LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        float[] before = GoldenVariants.logits(lm, batch);
        Path saved = tmp.resolve("saved");
        LoraAdapter.save(lm, original, saved);
        LoraAdapter.detach(lm);
        float[] base = GoldenVariants.logits(lm, batch);
        assertTrue(GoldenVariants.maxAbsDiff(before, base, batch) > 0.01, "the adapter changes the logits");

        LoraConfig reread = LoraAdapter.load(lm, saved, false);
        try {
            int d = GoldenVariants.firstBitDifference(before, GoldenVariants.logits(lm, batch));
            assertEquals(-1, d, "logits after save + reload differ at " + d);
            LoraConfig expected = new LoraConfig(original.r(), original.loraAlpha(), original.loraDropout(),
                    original.targetModules(), original.targetRegex(), original.useRslora(), original.rankPattern(),
                    original.alphaPattern(), original.layersToTransform(), original.initLoraWeights(),
                    lm.config().nameOrPath()); // PEFT too records the base model the adapter was saved from
            assertEquals(expected, reread);
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    @Test
    void savedFilesHavePeftKeysShapesMetadataAndConfigTypes() throws Exception {
        LoraConfig config = LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        Path saved = tmp.resolve("saved");
        try {
            LoraAdapter.save(lm, config, saved);
        } finally {
            LoraAdapter.detach(lm);
        }
        try (SafetensorsFile want = SafetensorsFile.open(GoldenVariants.adapterDir().resolve("adapter_model.safetensors"));
                SafetensorsFile got = SafetensorsFile.open(saved.resolve("adapter_model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), got.metadata(), "PEFT's safetensors metadata");
            assertEquals(want.tensors().keySet(), got.tensors().keySet(), "PEFT key names");
            assertEquals(2 * 7 * 2, got.tensors().size(), "A and B of 7 projections in 2 layers");
            for (Map.Entry<String, TensorInfo> e : want.tensors().entrySet()) {
                TensorInfo g = got.info(e.getKey());
                assertArrayEquals(e.getValue().shape(), g.shape(), e.getKey() + " shape");
                assertEquals(DType.F32, g.dtype(), e.getKey() + " dtype");
                assertEquals(-1, GoldenVariants.firstBitDifference(want.floats(e.getKey()), got.floats(e.getKey())),
                        e.getKey() + " values");
            }
        }
        // The JSON types PEFT's LoraConfig expects: init_lora_weights True (a bool; PEFT raises "Unknown
        // initialization" on the string "true"), r an int, target_modules a list.
        JsonNode json = GoldenVariants.json(saved.resolve("adapter_config.json"));
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals("CAUSAL_LM", json.get("task_type").asText());
        assertTrue(json.get("init_lora_weights").isBoolean() && json.get("init_lora_weights").asBoolean(),
                "init_lora_weights " + json.get("init_lora_weights"));
        assertTrue(json.get("r").isIntegralNumber() && json.get("r").asInt() == 4, "r " + json.get("r"));
        assertEquals(8.0, json.get("lora_alpha").asDouble());
        assertTrue(json.get("target_modules").isArray() && json.get("target_modules").size() == 7);
        assertEquals("none", json.get("bias").asText());
        assertTrue(json.get("modules_to_save").isNull());
    }

    @Test
    void savingWithoutAnAttachedAdapterIsRefused() {
        LoraAdapter.detach(lm);
        Path dir = tmp.resolve("empty");
        var e = assertThrows(IllegalStateException.class,
                () -> LoraAdapter.save(lm, LoraConfig.of(4, 8, 0, List.of("q_proj")), dir));
        assertTrue(e.getMessage().contains("no LoRA adapter"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("adapter_model.safetensors")));
    }

    @Test
    void everyConfigFeatureSurvivesJson() {
        List<LoraConfig> configs = List.of(
                LoraConfig.of(8, 16, 0.05, List.of("q_proj", "v_proj")),
                new LoraConfig(4, 8, 0, List.of(), ".*\\.mlp\\.(up|down)_proj", true, Map.of("up_proj", 2),
                        Map.of("down_proj", 32.0), null, "gaussian", "Qwen/Qwen2.5-0.5B-Instruct"),
                new LoraConfig(4, 8, 0.1, LoraConfig.ALL_MODULES, null, false, Map.of(), Map.of(), List.of(1), "false",
                        "base"));
        for (LoraConfig c : configs) {
            ObjectNode json = c.toJson(c.baseModelNameOrPath());
            JsonNode init = json.get("init_lora_weights");
            assertTrue(c.initLoraWeights().equals("gaussian") ? init.isTextual() : init.isBoolean(),
                    "init_lora_weights written as PEFT's type: " + init);
            assertEquals(c, LoraConfig.fromJson(json), "JSON round trip of " + json);
        }
    }
}
