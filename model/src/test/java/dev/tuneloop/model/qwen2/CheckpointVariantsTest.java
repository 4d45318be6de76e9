package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.GoldenVariants.Tensor;
import dev.tuneloop.model.safetensors.CheckpointTensors;
import dev.tuneloop.model.safetensors.DType;
import dev.tuneloop.model.safetensors.HalfFloats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real checkpoints come as BF16, sharded and (for larger Qwen2s) with an untied {@code lm_head}: variants of the tiny
 * fixture in those layouts must load to the very same weights and logits.
 */
class CheckpointVariantsTest {
    private static final int SHARDS = 3;

    @TempDir
    static Path tmp;

    static Map<String, Tensor> rounded; // fixture weights rounded to BF16, plus lm_head.weight = embedding copy
    static ObjectNode untiedConfig;
    static TokenBatch batch;

    @BeforeAll
    static void writeVariants() throws Exception {
        batch = GoldenVariants.goldenBatch();
        rounded = new LinkedHashMap<>();
        GoldenVariants.modelTensors().forEach((name, t) -> {
            float[] v = new float[t.values().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(t.values()[i]));
            }
            rounded.put(name, new Tensor(t.shape(), v));
        });
        rounded.put("lm_head.weight", rounded.get("model.embed_tokens.weight").copy());
        untiedConfig = GoldenVariants.modelConfig();
        untiedConfig.put("tie_word_embeddings", false);

        GoldenVariants.modelFolder(tmp.resolve("f32-untied"), untiedConfig, rounded);
        writeShardedBf16(tmp.resolve("bf16-sharded"));

        ObjectNode tied = GoldenVariants.modelConfig();
        Map<String, Tensor> roundedTied = new LinkedHashMap<>(rounded);
        roundedTied.remove("lm_head.weight");
        GoldenVariants.modelFolder(tmp.resolve("f32-tied"), tied, roundedTied);

        Map<String, Tensor> negatedHead = new LinkedHashMap<>(rounded);
        float[] neg = rounded.get("lm_head.weight").values().clone();
        for (int i = 0; i < neg.length; i++) {
            neg[i] = -neg[i];
        }
        negatedHead.put("lm_head.weight", new Tensor(rounded.get("lm_head.weight").shape(), neg));
        GoldenVariants.modelFolder(tmp.resolve("f32-negated-head"), untiedConfig, negatedHead);

        Path f16 = tmp.resolve("f16");
        GoldenVariants.writeJson(f16.resolve("config.json"), GoldenVariants.modelConfig());
        GoldenVariants.write(f16.resolve("model.safetensors"), GoldenVariants.modelTensors(), DType.F16, Map.of("format", "pt"));
    }

    /** BF16, split over three shards in Hugging Face's layout, with {@code model.safetensors.index.json}. */
    private static void writeShardedBf16(Path dir) throws Exception {
        List<String> names = new ArrayList<>(rounded.keySet());
        ObjectNode index = GoldenVariants.JSON.createObjectNode();
        ObjectNode weightMap = GoldenVariants.JSON.createObjectNode();
        long totalBytes = 0;
        int perShard = (names.size() + SHARDS - 1) / SHARDS;
        for (int s = 0; s < SHARDS; s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, SHARDS);
            Map<String, Tensor> shard = new LinkedHashMap<>();
            for (String name : names.subList(s * perShard, Math.min(names.size(), (s + 1) * perShard))) {
                shard.put(name, rounded.get(name));
                weightMap.put(name, file);
                totalBytes += 2L * rounded.get(name).values().length;
            }
            GoldenVariants.write(dir.resolve(file), shard, DType.BF16, Map.of("format", "pt"));
        }
        index.putObject("metadata").put("total_size", totalBytes);
        index.set("weight_map", weightMap);
        GoldenVariants.writeJson(dir.resolve("model.safetensors.index.json"), index);
        ObjectNode config = untiedConfig.deepCopy();
        config.put("torch_dtype", "bfloat16");
        GoldenVariants.writeJson(dir.resolve("config.json"), config);
    }

    @Test
    void shardedBf16LoadsBitIdenticalToItsF32Copy() throws Exception {
        Path sharded = tmp.resolve("bf16-sharded");
        try (CheckpointTensors t = CheckpointTensors.open(sharded)) {
            assertEquals(sharded.resolve("model.safetensors.index.json"), t.source(), "opened through the index");
            assertEquals(SHARDS, t.names().stream().map(t::fileOf).distinct().count(), "tensors spread over shards");
            assertEquals(DType.BF16, t.info("lm_head.weight").dtype());
        }
        try (Qwen2ForCausalLM f32 = Qwen2Weights.load(tmp.resolve("f32-untied"), Device.cpu());
                Qwen2ForCausalLM bf16 = Qwen2Weights.load(sharded, Device.cpu())) {
            assertTrue(!bf16.config().tieWordEmbeddings() && bf16.namedParameters().containsKey("lm_head.weight"),
                    "untied model has its own lm_head.weight");
            Map<String, Parameter> a = f32.namedParameters();
            Map<String, Parameter> b = bf16.namedParameters();
            assertEquals(rounded.keySet(), a.keySet(), "every written tensor is a weight of the model");
            assertEquals(a.keySet(), b.keySet());
            for (String name : a.keySet()) {
                float[] want = rounded.get(name).values();
                float[] fromF32 = a.get(name).getArray().toFloatArray();
                float[] fromBf16 = b.get(name).getArray().toFloatArray();
                int d = GoldenVariants.firstBitDifference(want, fromF32);
                assertEquals(-1, d, name + " (F32 copy) differs at " + d);
                d = GoldenVariants.firstBitDifference(want, fromBf16);
                assertEquals(-1, d, name + " (BF16 shards) differs at " + d);
            }
            float[] la = GoldenVariants.logits(f32, batch);
            float[] lb = GoldenVariants.logits(bf16, batch);
            int d = GoldenVariants.firstBitDifference(la, lb);
            assertEquals(-1, d, "logits differ at " + d + ": " + (d < 0 ? "" : la[d] + " vs " + lb[d]));
        }
    }

    @Test
    void untiedHeadIsReadFromLmHeadWeight() throws Exception {
        try (Qwen2ForCausalLM tied = Qwen2Weights.load(tmp.resolve("f32-tied"), Device.cpu());
                Qwen2ForCausalLM untied = Qwen2Weights.load(tmp.resolve("f32-untied"), Device.cpu());
                Qwen2ForCausalLM negated = Qwen2Weights.load(tmp.resolve("f32-negated-head"), Device.cpu())) {
            assertTrue(tied.config().tieWordEmbeddings() && !tied.namedParameters().containsKey("lm_head.weight"));
            float[] lt = GoldenVariants.logits(tied, batch);
            float[] lu = GoldenVariants.logits(untied, batch);
            assertEquals(-1, GoldenVariants.firstBitDifference(lt, lu), "lm_head = embedding copy gives the tied logits");
            // lm_head = -embedding, embedding unchanged: same hidden states, so exactly negated logits.
            float[] ln = GoldenVariants.logits(negated, batch);
            for (int i = 0; i < lu.length; i++) {
                if (Float.floatToRawIntBits(ln[i]) != Float.floatToRawIntBits(-lu[i])) {
                    throw new AssertionError("logit " + i + ": " + ln[i] + " is not -" + lu[i]
                            + " (head not read from lm_head.weight, or embedding taken from it)");
                }
            }
        }
    }

    @Test
    void f16CheckpointGivesLogitsCloseToF32() throws Exception {
        try (Qwen2ForCausalLM f32 = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
                Qwen2ForCausalLM f16 = Qwen2Weights.load(tmp.resolve("f16"), Device.cpu())) {
            float[] embed = f16.namedParameters().get("model.embed_tokens.weight").getArray().toFloatArray();
            float[] src = GoldenVariants.modelTensors().get("model.embed_tokens.weight").values();
            for (int i = 0; i < embed.length; i++) {
                float want = HalfFloats.f16ToFloat(HalfFloats.floatToF16(src[i]));
                if (Float.floatToRawIntBits(embed[i]) != Float.floatToRawIntBits(want)) {
                    throw new AssertionError("embedding element " + i + ": " + embed[i] + ", F16 value " + want);
                }
            }
            double diff = GoldenVariants.maxAbsDiff(GoldenVariants.logits(f32, batch), GoldenVariants.logits(f16, batch), batch);
            // F16 keeps 11 significant bits (relative error <= 2^-11 per weight). Measured: 0.015 on logits up to
            // |7.2| (BF16, 8 bits, gives 0.09); a wrong widening (bits misread, subnormals lost) gives O(1).
            assertTrue(diff > 0 && diff < 0.03, "F16 vs F32 logits: max |diff| " + diff);
        }
    }

    @Test
    void shardedCheckpointIsNotAlsoASingleFile() throws Exception {
        Path dir = tmp.resolve("both");
        Files.createDirectories(dir);
        try (var files = Files.list(tmp.resolve("bf16-sharded"))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.copy(GoldenVariants.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Exception e = assertThrows(Exception.class,
                () -> Qwen2Weights.load(dir, Device.cpu()).close());
        assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
    }
}
