package dev.tuneloop.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.GoldenVariants.Tensor;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PEFT LoRA options tuneloop implements (rsLoRA, rank/alpha patterns, layers_to_transform, regex and "all-linear"
 * target_modules), each checked against an equivalent plain adapter built from the fixture's tensors.
 */
class LoraConfigFeaturesTest {
    static final String P = LoraAdapter.PREFIX;

    static Qwen2ForCausalLM lm;
    static TokenBatch batch;

    @TempDir
    Path tmp;
    int folders;

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        batch = GoldenVariants.goldenBatch();
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

    /** Logits of the model with the adapter in {@code dir}. */
    private static float[] logitsWith(Path dir) throws Exception {
        LoraAdapter.load(lm, dir, false);
        try {
            return GoldenVariants.logits(lm, batch);
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    /** The fixture's tensors with B multiplied by {@code factor} for the modules whose PEFT key matches. */
    private static Map<String, Tensor> scaleB(Map<String, Tensor> tensors, Predicate<String> module, float factor) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((key, t) -> {
            if (key.endsWith(".lora_B.weight") && module.test(key)) {
                float[] v = t.values().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= factor;
                }
                out.put(key, new Tensor(t.shape(), v));
            } else {
                out.put(key, t);
            }
        });
        return out;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        double d = GoldenVariants.maxAbsDiff(want, got, batch);
        assertTrue(d <= 1e-5, what + ": max |diff| " + d);
    }

    @Test
    void rsLoraScalesByAlphaOverSqrtR() throws Exception {
        ObjectNode c = GoldenVariants.adapterConfig();
        c.put("use_rslora", true);
        Path rs = adapter(c, GoldenVariants.adapterTensors());
        LoraAdapter.load(lm, rs, false);
        for (LoraLinear p : lm.projections().values()) {
            assertEquals(8 / Math.sqrt(4), p.scaling(), 1e-7, "alpha / sqrt(r)");
        }
        float[] got = GoldenVariants.logits(lm, batch);
        LoraAdapter.detach(lm);
        // scaling 4 with B is scaling 2 (alpha/r) with 2·B
        Path doubled = adapter(GoldenVariants.adapterConfig(), scaleB(GoldenVariants.adapterTensors(), k -> true, 2f));
        assertClose(logitsWith(doubled), got, "rsLoRA vs plain LoRA with 2·B");
    }

    @Test
    void rankAndAlphaPatternsApplyPerModule() throws Exception {
        // q_proj of layer 1 gets rank 2 (so scaling 8/2 = 4), every v_proj alpha 16 (scaling 16/4 = 4).
        ObjectNode c = GoldenVariants.adapterConfig();
        c.putObject("rank_pattern").put("layers.1.self_attn.q_proj", 2);
        c.putObject("alpha_pattern").put("v_proj", 16);
        Map<String, Tensor> t = GoldenVariants.adapterTensors();
        String q1 = P + "model.layers.1.self_attn.q_proj";
        Tensor a = t.get(q1 + ".lora_A.weight"); // (4, 64)
        Tensor b = t.get(q1 + ".lora_B.weight"); // (64, 4)
        float[] a2 = Arrays.copyOf(a.values(), 2 * 64); // first two rows
        float[] b2 = new float[64 * 2]; // first two columns
        for (int o = 0; o < 64; o++) {
            b2[o * 2] = b.values()[o * 4];
            b2[o * 2 + 1] = b.values()[o * 4 + 1];
        }
        t.put(q1 + ".lora_A.weight", new Tensor(new long[] {2, 64}, a2));
        t.put(q1 + ".lora_B.weight", new Tensor(new long[] {64, 2}, b2));
        LoraAdapter.load(lm, adapter(c, t), false);
        Map<String, LoraLinear> p = lm.projections();
        assertArrayEquals(new long[] {2, 64}, p.get("model.layers.1.self_attn.q_proj").loraA().getArray().getShape()
                .getShape());
        assertArrayEquals(new long[] {4, 64}, p.get("model.layers.0.self_attn.q_proj").loraA().getArray().getShape()
                .getShape());
        assertEquals(4.0f, p.get("model.layers.1.self_attn.q_proj").scaling());
        assertEquals(2.0f, p.get("model.layers.0.self_attn.q_proj").scaling());
        assertEquals(4.0f, p.get("model.layers.0.self_attn.v_proj").scaling());
        assertEquals(4.0f, p.get("model.layers.1.self_attn.v_proj").scaling());
        assertEquals(2.0f, p.get("model.layers.1.self_attn.k_proj").scaling());
        float[] got = GoldenVariants.logits(lm, batch);
        LoraAdapter.detach(lm);

        // Equivalent plain r=4 adapter: layer-1 q_proj with A's last two rows and B's last two columns zero and B
        // doubled, every v_proj's B doubled.
        Map<String, Tensor> plain = scaleB(GoldenVariants.adapterTensors(), k -> k.contains(".v_proj."), 2f);
        float[] a4 = new float[4 * 64];
        System.arraycopy(a2, 0, a4, 0, a2.length);
        float[] b4 = new float[64 * 4];
        for (int o = 0; o < 64; o++) {
            b4[o * 4] = 2 * b2[o * 2];
            b4[o * 4 + 1] = 2 * b2[o * 2 + 1];
        }
        plain.put(q1 + ".lora_A.weight", new Tensor(new long[] {4, 64}, a4));
        plain.put(q1 + ".lora_B.weight", new Tensor(new long[] {64, 4}, b4));
        assertClose(logitsWith(adapter(GoldenVariants.adapterConfig(), plain)), got, "rank/alpha pattern vs plain");
    }

    @Test
    void patternKeysFollowPeftMatchingAndOrder() throws Exception {
        ObjectNode c = GoldenVariants.adapterConfig();
        ObjectNode ranks = c.putObject("rank_pattern");
        ranks.put("q_proj", 2); // PEFT: the first key that matches (.*\.)?(key)$ wins, in the file's order
        ranks.put("model.layers.1.self_attn.q_proj", 3);
        ranks.put("mlp\\.(up|down)_proj", 6); // keys are regexes
        ranks.put("proj", 5); // must match a whole name segment: never "o_proj" etc.
        LoraConfig config = LoraConfig.fromJson(c);
        assertEquals(2, config.rankFor("model.layers.1.self_attn.q_proj"));
        assertEquals(2, config.rankFor("model.layers.0.self_attn.q_proj"));
        assertEquals(6, config.rankFor("model.layers.0.mlp.down_proj"));
        assertEquals(4, config.rankFor("model.layers.0.mlp.gate_proj"));
        assertEquals(4, config.rankFor("model.layers.0.self_attn.o_proj"));
        assertEquals(List.of("q_proj", "model.layers.1.self_attn.q_proj", "mlp\\.(up|down)_proj", "proj"),
                List.copyOf(config.rankPattern().keySet()), "pattern order as in adapter_config.json");
        assertEquals(config, LoraConfig.fromJson(config.toJson(config.baseModelNameOrPath())));
    }

    @Test
    void layersToTransformLimitsLoraToThoseLayers() throws Exception {
        Map<String, Tensor> layer1 = new LinkedHashMap<>();
        GoldenVariants.adapterTensors().forEach((k, v) -> {
            if (k.contains(".layers.1.")) {
                layer1.put(k, v);
            }
        });
        for (boolean asInt : new boolean[] {false, true}) {
            ObjectNode c = GoldenVariants.adapterConfig();
            if (asInt) {
                c.put("layers_to_transform", 1);
            } else {
                c.putArray("layers_to_transform").add(1);
            }
            c.put("layers_pattern", "layers");
            Path dir = adapter(c, layer1);
            LoraAdapter.load(lm, dir, false);
            lm.projections().forEach((path, p) -> assertEquals(path.contains(".layers.1."), p.hasLora(), path));
            float[] got = GoldenVariants.logits(lm, batch);
            LoraAdapter.detach(lm);
            Path zeroLayer0 = adapter(GoldenVariants.adapterConfig(),
                    scaleB(GoldenVariants.adapterTensors(), k -> k.contains(".layers.0."), 0f));
            assertClose(logitsWith(zeroLayer0), got, "layers_to_transform [1] vs layer 0's B zeroed");
        }
        // PEFT treats an empty list as "no layer filter"
        ObjectNode empty = GoldenVariants.adapterConfig();
        empty.putArray("layers_to_transform");
        assertEquals(-1, GoldenVariants.firstBitDifference(logitsWith(GoldenVariants.adapterDir()),
                logitsWith(adapter(empty, GoldenVariants.adapterTensors()))), "layers_to_transform []");
        // the fixture's full adapter has layer-0 tensors the config now excludes: refused, not ignored
        ObjectNode c = GoldenVariants.adapterConfig();
        c.putArray("layers_to_transform").add(1);
        Exception e = assertThrows(Exception.class,
                () -> LoraAdapter.load(lm, adapter(c, GoldenVariants.adapterTensors()), false));
        assertTrue(e.getMessage().contains("model.layers.0."), e.getMessage());
    }

    @Test
    void regexTargetModulesUsePeftFullMatch() throws Exception {
        Map<String, Tensor> qv = new LinkedHashMap<>();
        GoldenVariants.adapterTensors().forEach((k, v) -> {
            if (k.contains(".q_proj.") || k.contains(".v_proj.")) {
                qv.put(k, v);
            }
        });
        ObjectNode c = GoldenVariants.adapterConfig();
        c.put("target_modules", "model\\.layers\\.\\d+\\.self_attn\\.(q|v)_proj");
        LoraAdapter.load(lm, adapter(c, qv), false);
        lm.projections().forEach((path, p) ->
                assertEquals(path.endsWith(".q_proj") || path.endsWith(".v_proj"), p.hasLora(), path));
        float[] got = GoldenVariants.logits(lm, batch);
        LoraAdapter.detach(lm);
        Path zeroOthers = adapter(GoldenVariants.adapterConfig(), scaleB(GoldenVariants.adapterTensors(),
                k -> !k.contains(".q_proj.") && !k.contains(".v_proj."), 0f));
        assertClose(logitsWith(zeroOthers), got, "regex (q|v)_proj vs the others' B zeroed");

        // full match, not search: "q_proj" as a regex matches no module path
        ObjectNode partial = GoldenVariants.adapterConfig();
        partial.put("target_modules", "q_proj");
        Exception e = assertThrows(Exception.class, () -> LoraAdapter.load(lm, adapter(partial, qv), false));
        assertTrue(e.getMessage().contains("match no module"), e.getMessage());
        assertFalse(lm.projections().values().stream().anyMatch(LoraLinear::hasLora));
    }

    @Test
    void allLinearTargetsTheSevenProjections() throws Exception {
        ObjectNode c = GoldenVariants.adapterConfig();
        c.put("target_modules", "all-linear");
        LoraConfig config = LoraConfig.fromJson(c);
        assertEquals(LoraConfig.ALL_MODULES, config.targetModules());
        float[] got = logitsWith(adapter(c, GoldenVariants.adapterTensors()));
        assertEquals(-1, GoldenVariants.firstBitDifference(logitsWith(GoldenVariants.adapterDir()), got));
    }

    @Test
    void freshAdapterFollowsPatternsAndStartsAtTheBaseModel() {
        float[] base = GoldenVariants.logits(lm, batch);
        LoraConfig config = new LoraConfig(8, 16, 0, List.of("q_proj", "down_proj"), null, false,
                Map.of("down_proj", 2), Map.of(), List.of(0), "true", null);
        LoraAdapter.initialize(lm, config, 42);
        Map<String, LoraLinear> p = lm.projections();
        assertEquals(4, LoraAdapter.parameters(lm).size(), "q_proj and down_proj of layer 0 only");
        assertArrayEquals(new long[] {2, 160}, p.get("model.layers.0.mlp.down_proj").loraA().getArray().getShape()
                .getShape());
        assertEquals(8.0f, p.get("model.layers.0.mlp.down_proj").scaling());
        assertEquals(2.0f, p.get("model.layers.0.self_attn.q_proj").scaling());
        float[] a = p.get("model.layers.0.self_attn.q_proj").loraA().getArray().toFloatArray();
        double bound = 1 / Math.sqrt(64);
        for (float v : a) {
            assertTrue(Math.abs(v) <= bound, "Kaiming-uniform A within ±1/sqrt(in): " + v);
        }
        assertEquals(-1, GoldenVariants.firstBitDifference(base, GoldenVariants.logits(lm, batch)), "B = 0: base logits");
    }
}
