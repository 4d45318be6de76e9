package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.Shared;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the shared tiny-Qwen2 fixtures; expected values were read from the files with Python's struct module. */
class SafetensorsFileTest {

    @Test
    void readsTinyModelWeights() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(Shared.tinyGolden().resolve("model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(26, f.tensors().size(), "embed + 2 layers x 12 + final norm");
            List<String> names = new ArrayList<>(f.tensors().keySet());
            List<String> sorted = new ArrayList<>(names);
            sorted.sort(null);
            assertEquals(sorted, names, "tensors() is ordered by name");

            TensorInfo embed = f.info("model.embed_tokens.weight");
            assertEquals(DType.F32, embed.dtype());
            assertArrayEquals(new long[] {1024, 64}, embed.shape());
            assertEquals("[1024, 64]", embed.shapeString());
            assertEquals(65536, embed.numel());
            assertEquals(0, embed.begin());
            assertEquals(262144, embed.end());
            float[] e = f.floats("model.embed_tokens.weight");
            assertEquals(65536, e.length);
            assertEquals(-0.017662016674876213f, e[0]);
            assertEquals(0.0684097483754158f, e[1]);
            assertEquals(0.08223360776901245f, e[2]);

            TensorInfo kBias = f.info("model.layers.1.self_attn.k_proj.bias");
            assertArrayEquals(new long[] {32}, kBias.shape(), "2 KV heads x head dim 16");
            assertArrayEquals(new long[] {160, 64}, f.info("model.layers.0.mlp.gate_proj.weight").shape());

            float[] norm = f.floats("model.norm.weight");
            assertEquals(64, norm.length);
            assertArrayEquals(new float[] {1.005856990814209f, 1.053450345993042f, 1.0276011228561401f,
                1.1017775535583496f}, java.util.Arrays.copyOf(norm, 4));
        }
    }

    @Test
    void readsGoldenInputsAndAgreesWithGoldenJson() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(Shared.tinyGolden().resolve("golden.json").toFile());
        try (SafetensorsFile f = SafetensorsFile.open(Shared.tinyGolden().resolve("golden.safetensors"))) {
            TensorInfo ids = f.info("input_ids");
            assertEquals(DType.I64, ids.dtype());
            assertArrayEquals(new long[] {2, 12}, ids.shape());
            long[] inputIds = f.longs("input_ids");
            assertArrayEquals(new long[] {77, 178, 117, 311, 124, 101, 795, 860, 102, 61, 1022, 80,
                500, 181, 298, 905, 567, 567, 488, 931, 795, 0, 0, 0}, inputIds);
            // golden.json's greedy prompt is the first row's prompt.
            for (int i = 0; i < golden.get("greedy_prompt_ids").size(); i++) {
                assertEquals(golden.get("greedy_prompt_ids").get(i).asLong(), inputIds[i]);
            }
            long[] mask = f.longs("attention_mask");
            assertEquals(21, java.util.Arrays.stream(mask).sum(), "12 + 9 real tokens, second row right-padded");
            long[] labels = f.longs("labels");
            assertEquals(-100, labels[0]);
            assertEquals(101, labels[5]);

            float lossBase = f.floats("loss_base")[0];
            float lossLora = f.floats("loss_lora")[0];
            assertEquals(golden.get("loss_base").asDouble(), lossBase, 1e-6);
            assertEquals(golden.get("loss_lora").asDouble(), lossLora, 1e-6);
            assertArrayEquals(new long[] {2, 12, 1024}, f.info("logits_lora").shape());
            assertEquals(2 * 12 * 1024, f.floats("logits_base").length);
            assertArrayEquals(new long[] {4, 160},
                    f.info("grad.base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").shape());
        }
    }

    @Test
    void readsPeftAdapterWithFormatMetadata() throws Exception {
        Path adapter = Shared.tinyGolden().resolve("adapter/adapter_model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(adapter)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(28, f.tensors().size(), "2 layers x 7 projections x (A, B)");
            TensorInfo a = f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
            TensorInfo b = f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
            assertArrayEquals(new long[] {4, 64}, a.shape(), "r 4 x hidden 64");
            assertArrayEquals(new long[] {64, 4}, b.shape());
            float sumSq = 0;
            for (float v : f.floats(b.name())) {
                sumSq += v * v;
            }
            assertTrue(sumSq > 0, "the fixture's B matrices are non-zero");
        }
    }

    @Test
    void wrongAccessorAndMissingTensorNameTheFileAndTensor() throws Exception {
        Path file = Shared.tinyGolden().resolve("golden.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            var e1 = assertThrows(IllegalArgumentException.class, () -> f.floats("input_ids"));
            assertTrue(e1.getMessage().contains(file.toString()) && e1.getMessage().contains("'input_ids'")
                    && e1.getMessage().contains("I64"), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> f.longs("loss_base"));
            assertTrue(e2.getMessage().contains("'loss_base'") && e2.getMessage().contains("F32"), e2.getMessage());
            var e3 = assertThrows(IllegalArgumentException.class, () -> f.info("lm_head.weight"));
            assertTrue(e3.getMessage().contains(file.toString()) && e3.getMessage().contains("'lm_head.weight'"),
                    e3.getMessage());
        }
    }

    @Test
    void readAfterCloseIsAClearError() throws Exception {
        SafetensorsFile f = SafetensorsFile.open(Shared.tinyGolden().resolve("model.safetensors"));
        f.close();
        var e = assertThrows(IllegalStateException.class, () -> f.floats("model.norm.weight"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    /** Default: most golden tensors are small positional reads; here every tensor is mapped in 24-byte windows. */
    @Test
    void smallMappingWindowsReadTheSameValues() throws Exception {
        Path file = Shared.tinyGolden().resolve("golden.safetensors");
        try (SafetensorsFile whole = SafetensorsFile.open(file);
                SafetensorsFile windowed = SafetensorsFile.open(file, 24, 0);
                SafetensorsFile inMemory = SafetensorsFile.read("golden", java.nio.file.Files.readAllBytes(file))) {
            assertEquals(whole.tensors(), inMemory.tensors());
            assertEquals(whole.metadata(), inMemory.metadata());
            for (TensorInfo t : whole.tensors().values()) {
                if (t.dtype().isFloatingPoint()) {
                    assertArrayEquals(whole.floats(t.name()), windowed.floats(t.name()), t.name());
                    assertArrayEquals(whole.floats(t.name()), inMemory.floats(t.name()), t.name());
                } else {
                    assertArrayEquals(whole.longs(t.name()), windowed.longs(t.name()), t.name());
                    assertArrayEquals(whole.longs(t.name()), inMemory.longs(t.name()), t.name());
                }
            }
            assertNull(inMemory.path());
            var e = assertThrows(IllegalArgumentException.class, () -> inMemory.floats("no.such.tensor"));
            assertTrue(e.getMessage().startsWith("golden: no tensor 'no.such.tensor'"), e.getMessage());
        }
    }

    /** The dtypes the writer does not produce, from hand-made bytes. */
    @Test
    void readsF64AndEveryIntegerDtype(@TempDir Path dir) throws Exception {
        ByteBuffer data = ByteBuffer.allocate(24 + 8 + 4 + 2 + 2 + 3).order(ByteOrder.LITTLE_ENDIAN);
        data.putDouble(1.5).putDouble(-1e300).putDouble(0.1);   // F64 [3]   0..24
        data.putInt(-5).putInt(Integer.MAX_VALUE);               // I32 [2]  24..32
        data.putShort(Short.MIN_VALUE).putShort((short) 7);      // I16 [2]  32..36
        data.put((byte) -128).put((byte) 127);                   // I8  [2]  36..38
        data.put((byte) 255).put((byte) 0);                      // U8  [2]  38..40
        data.put((byte) 0).put((byte) 1).put((byte) 2);          // BOOL [3] 40..43
        String header = "{" + SafetensorsValidationTest.t("f64", "F64", 3, 0, 24) + ","
                + SafetensorsValidationTest.t("i32", "I32", 2, 24, 32) + ","
                + SafetensorsValidationTest.t("i16", "I16", 2, 32, 36) + ","
                + SafetensorsValidationTest.t("i8", "I8", 2, 36, 38) + ","
                + SafetensorsValidationTest.t("u8", "U8", 2, 38, 40) + ","
                + SafetensorsValidationTest.t("bool", "BOOL", 3, 40, 43) + "}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json).put(data.array());
        Path path = java.nio.file.Files.write(dir.resolve("dtypes.safetensors"), file.array());
        for (SafetensorsFile f : new SafetensorsFile[] {SafetensorsFile.open(path), SafetensorsFile.open(path, 8, 0),
            SafetensorsFile.read("dtypes", file.array())}) {
            try (f) {
                assertArrayEquals(new float[] {1.5f, Float.NEGATIVE_INFINITY, 0.1f}, f.floats("f64"));
                assertArrayEquals(new long[] {-5, Integer.MAX_VALUE}, f.longs("i32"));
                assertArrayEquals(new long[] {Short.MIN_VALUE, 7}, f.longs("i16"));
                assertArrayEquals(new long[] {-128, 127}, f.longs("i8"));
                assertArrayEquals(new long[] {255, 0}, f.longs("u8"));
                assertArrayEquals(new long[] {0, 1, 1}, f.longs("bool"));
            }
        }
    }

    /** A sparse file with a data section past 2 GiB: offsets beyond int range and a tensor too big for an array. */
    @Test
    void filesLargerThan2GiBWork(@TempDir Path dir) throws Exception {
        long big = (1L << 31) + 16; // U8 elements: more than a Java array holds
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + big + "," + (big + 16) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json);
            raf.write(head.array());
            long dataStart = 8 + json.length;
            raf.setLength(dataStart + big + 16);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(Float.MAX_VALUE);
            raf.seek(dataStart + big);
            raf.write(tail.array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, Float.MAX_VALUE}, f.floats("tail"));
            var e = assertThrows(IllegalArgumentException.class, () -> f.longs("pad"));
            assertTrue(e.getMessage().contains("'pad'") && e.getMessage().contains(Long.toString(big))
                    && e.getMessage().contains("Java array"), e.getMessage());
        }
    }
}
