package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTensorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    @Test
    void singleFileCheckpoint() throws Exception {
        try (CheckpointTensors c = CheckpointTensors.open(Shared.tinyGolden())) {
            assertEquals(26, c.names().size());
            assertEquals(Map.of("format", "pt"), c.metadata());
            assertArrayEquals(new long[] {1024, 64}, c.info("model.embed_tokens.weight").shape());
            assertEquals(1.005856990814209f, c.floats("model.norm.weight")[0]);
            var e = assertThrows(IllegalArgumentException.class, () -> c.floats("lm_head.weight"));
            assertTrue(e.getMessage().contains("'lm_head.weight'") && e.getMessage().contains("model.safetensors"),
                    e.getMessage());
        }
    }

    @Test
    void adapterStem() throws Exception {
        try (CheckpointTensors c = CheckpointTensors.open(Shared.tinyGolden().resolve("adapter"), "adapter_model")) {
            assertEquals(28, c.names().size());
            assertEquals(Map.of("format", "pt"), c.metadata());
            assertArrayEquals(new long[] {160, 4},
                    c.info("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight").shape());
        }
    }

    @Test
    void shardedCheckpointReadsLikeTheSingleFile() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        writeIndex(Map.of("total_size", 608512), weightMap);
        try (SafetensorsFile single = SafetensorsFile.open(Shared.tinyGolden().resolve("model.safetensors"));
                CheckpointTensors sharded = CheckpointTensors.open(dir)) {
            assertEquals(single.tensors().keySet(), sharded.names());
            assertEquals(Map.of("total_size", "608512"), sharded.metadata());
            assertEquals(dir.resolve(SHARD1), sharded.fileOf("model.embed_tokens.weight"));
            assertEquals(dir.resolve(SHARD2), sharded.fileOf("model.norm.weight"));
            for (String name : sharded.names()) {
                TensorInfo a = single.info(name);
                TensorInfo b = sharded.info(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(single.floats(name), sharded.floats(name), name);
            }
        }
    }

    @Test
    void bf16ShardsReadBackTheRoundedValues() throws Exception {
        writeIndex(Map.of(), shardTinyModel(DType.BF16));
        try (SafetensorsFile single = SafetensorsFile.open(Shared.tinyGolden().resolve("model.safetensors"));
                CheckpointTensors sharded = CheckpointTensors.open(dir)) {
            int changed = 0;
            for (String name : sharded.names()) {
                assertEquals(DType.BF16, sharded.info(name).dtype());
                float[] original = single.floats(name);
                float[] read = sharded.floats(name);
                for (int i = 0; i < original.length; i++) {
                    int bits = Float.floatToRawIntBits(original[i]);
                    // torch's round-to-nearest-even (no NaNs in the fixture)
                    int rounded = ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) << 16;
                    if (rounded != Float.floatToRawIntBits(read[i])) {
                        throw new AssertionError(name + "[" + i + "] = " + original[i] + ": expected BF16 "
                                + Float.intBitsToFloat(rounded) + " but read " + read[i]);
                    }
                    changed += rounded != bits ? 1 : 0;
                }
            }
            assertTrue(changed > 100_000, "F32 weights mostly change when rounded to BF16: " + changed);
        }
    }

    @Test
    void missingShardFile() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        Files.delete(dir.resolve(SHARD2));
        writeIndex(Map.of(), weightMap);
        expectError(dir, "model.safetensors.index.json", "shard " + SHARD2, "is missing");
    }

    @Test
    void weightMapPointsToAShardWithoutTheTensor() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        weightMap.put("model.extra.weight", SHARD1);
        writeIndex(Map.of(), weightMap);
        expectError(dir, "weight_map puts tensor 'model.extra.weight' in", SHARD1, "which has no such tensor");
    }

    @Test
    void tensorInAShardButNotInWeightMap() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        weightMap.remove("model.norm.weight");
        writeIndex(Map.of(), weightMap);
        expectError(dir, SHARD2, "unexpected tensor 'model.norm.weight'", "not in weight_map");
    }

    @Test
    void tensorInTwoShards() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        new SafetensorsWriter().putFloats("model.norm.weight", new long[] {1}, new float[] {1f})
                .putFloats("model.embed_tokens.weight", new long[] {1}, new float[] {1f}).write(dir.resolve(SHARD2));
        weightMap.values().removeIf(SHARD2::equals);
        weightMap.put("model.norm.weight", SHARD2);
        writeIndex(Map.of(), weightMap);
        expectError(dir, "unexpected tensor 'model.embed_tokens.weight'", "weight_map puts it in " + SHARD1);
    }

    @Test
    void malformedIndex() throws Exception {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\",");
        expectError(dir, "model.safetensors.index.json is not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        expectError(dir, "'weight_map' must be an object", "got nothing");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../model.safetensors\"}}");
        expectError(dir, "weight_map['a'] must be a file name in the same folder", "../model.safetensors");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        expectError(dir, "weight_map['a']", "got 3");
        Files.writeString(index, "{\"weight_map\": {}, \"weight_mapp\": {}}");
        expectError(dir, "unexpected key 'weight_mapp'");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"s.safetensors\", \"a\": \"s.safetensors\"}}");
        expectError(dir, "not valid JSON", "Duplicate field 'a'");
    }

    @Test
    void corruptShardIsNamed() throws Exception {
        Map<String, String> weightMap = shardTinyModel(DType.F32);
        Files.write(dir.resolve(SHARD2), new byte[] {1, 2, 3});
        writeIndex(Map.of(), weightMap);
        expectError(dir, SHARD2, "too short");
    }

    @Test
    void neitherFilePresentListsWhatWasLookedForAndFound() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("pytorch_model.bin"), "");
        var e = assertThrows(IOException.class, () -> CheckpointTensors.open(dir));
        String m = e.getMessage();
        assertTrue(m.contains(dir.toString()) && m.contains("model.safetensors and model.safetensors.index.json")
                && m.contains("[config.json, pytorch_model.bin]"), m);
        var adapter = assertThrows(IOException.class, () -> CheckpointTensors.open(dir, "adapter_model"));
        assertTrue(adapter.getMessage().contains("adapter_model.safetensors"), adapter.getMessage());
    }

    @Test
    void bothSingleFileAndIndexIsAmbiguous() throws Exception {
        writeIndex(Map.of(), shardTinyModel(DType.F32));
        Files.copy(Shared.tinyGolden().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        expectError(dir, "both model.safetensors and model.safetensors.index.json");
    }

    /** Splits the tiny model's tensors over two shards in {@link #dir}; returns the weight map. */
    private Map<String, String> shardTinyModel(DType dtype) throws IOException {
        Map<String, String> weightMap = new LinkedHashMap<>();
        try (SafetensorsFile single = SafetensorsFile.open(Shared.tinyGolden().resolve("model.safetensors"))) {
            List<String> names = new ArrayList<>(single.tensors().keySet());
            SafetensorsWriter first = new SafetensorsWriter().metadata("format", "pt");
            SafetensorsWriter second = new SafetensorsWriter().metadata("format", "pt");
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                boolean inFirst = i < names.size() / 2;
                (inFirst ? first : second).putFloats(name, single.info(name).shape(), single.floats(name), dtype);
                weightMap.put(name, inFirst ? SHARD1 : SHARD2);
            }
            first.write(dir.resolve(SHARD1));
            second.write(dir.resolve(SHARD2));
        }
        return weightMap;
    }

    private void writeIndex(Map<String, Object> metadata, Map<String, String> weightMap) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.set("metadata", JSON.valueToTree(metadata));
        root.set("weight_map", JSON.valueToTree(weightMap));
        Files.writeString(dir.resolve("model.safetensors.index.json"), root.toPrettyString());
    }

    private static void expectError(Path dir, String... fragments) {
        var e = assertThrows(IOException.class, () -> CheckpointTensors.open(dir).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain «" + f + "»: " + e.getMessage());
        }
        assertTrue(e.getMessage().contains(dir.toString()), "message names the folder's file: " + e.getMessage());
    }
}
