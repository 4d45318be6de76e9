package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeAndMetadata() throws Exception {
        float[] f32 = {0f, -0f, 1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f};
        // Exactly representable in binary16: read back unchanged.
        float[] f16 = {0f, -0f, 1f, -2f, 65504f, 0x1p-24f, 0x1p-14f, 0.333251953125f, Float.POSITIVE_INFINITY};
        // Exactly representable in bfloat16 (8 significant bits).
        float[] bf16 = {0f, 1f, -3.5f, 0x1p-133f, 3.3895314e38f, 1.0078125f, -0.0f, Float.NEGATIVE_INFINITY};
        long[] i64 = {Long.MIN_VALUE, -100, -1, 0, 1, 151643, Long.MAX_VALUE, 42};
        Path file = dir.resolve("all.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .metadata("note", "ünïcødé \"quoted\"")
                .putFloats("f32", new long[] {2, 5}, f32)
                .putFloats("f16", new long[] {9}, f16, DType.F16)
                .putFloats("bf16", new long[] {2, 2, 2}, bf16, DType.BF16)
                .putLongs("i64", new long[] {4, 2}, i64)
                .putFloats("scalar", new long[] {}, new float[] {7f})
                .putLongs("empty", new long[] {3, 0}, new long[0])
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcødé \"quoted\""), f.metadata());
            assertEquals(List.of("bf16", "empty", "f16", "f32", "i64", "scalar"),
                    new ArrayList<>(f.tensors().keySet()));
            assertBitsEqual(f32, f.floats("f32"));
            assertBitsEqual(f16, f.floats("f16"));
            assertBitsEqual(bf16, f.floats("bf16"));
            assertArrayEquals(i64, f.longs("i64"));
            assertEquals(DType.F16, f.info("f16").dtype());
            assertEquals(DType.BF16, f.info("bf16").dtype());
            assertArrayEquals(new long[] {2, 2, 2}, f.info("bf16").shape());
            assertArrayEquals(new long[] {}, f.info("scalar").shape());
            assertArrayEquals(new float[] {7f}, f.floats("scalar"));
            assertArrayEquals(new long[0], f.longs("empty"));
        }
    }

    @Test
    void narrowsWithRoundToNearestEven() throws Exception {
        Path file = dir.resolve("narrow.safetensors");
        new SafetensorsWriter()
                // 1/3 -> 0x3555; 65519 -> 65504; 65520 ties up to inf; 1e-8 < 2^-25 -> 0; 3e-8 -> 2^-24
                .putFloats("f16", new long[] {5}, new float[] {1f / 3, 65519f, 65520f, 1e-8f, 3e-8f}, DType.F16)
                // 1 + 2^-8 ties to even 1.0; 1 + 3 * 2^-8 ties to even 1 + 2^-6; 1 + 2^-8 + 2^-20 rounds up
                .putFloats("bf16", new long[] {3}, new float[] {1.00390625f, 1.01171875f, 1.00390625f + 0x1p-20f},
                        DType.BF16)
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {0.333251953125f, 65504f, Float.POSITIVE_INFINITY, 0f, 0x1p-24f},
                    f.floats("f16"));
            assertArrayEquals(new float[] {1f, 1.015625f, 1.0078125f}, f.floats("bf16"));
        }
    }

    @Test
    void byteLayoutIsAlignedSortedAndContiguous() throws Exception {
        Path file = dir.resolve("layout.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .putFloats("b.weight", new long[] {3}, new float[] {1f, 2f, 3f}, DType.F16)
                .putLongs("c.ids", new long[] {1}, new long[] {-2})
                .putFloats("a.weight", new long[] {1, 1}, new float[] {-1f})
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        assertEquals(0, (8 + n) % 8, "data section starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        assertEquals(header.stripTrailing() + " ".repeat(header.length() - header.stripTrailing().length()), header);
        assertTrue(header.length() - header.stripTrailing().length() < 8, "padding is spaces, fewer than 8");
        JsonNode root = new ObjectMapper().readTree(header);
        assertEquals("pt", root.get("__metadata__").get("format").asText());
        List<String> names = new ArrayList<>();
        root.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("__metadata__", "a.weight", "b.weight", "c.ids"), names);
        assertOffsets(root.get("a.weight"), "F32", 0, 4);
        assertOffsets(root.get("b.weight"), "F16", 4, 10);
        assertOffsets(root.get("c.ids"), "I64", 10, 18);
        assertEquals(8 + n + 18, bytes.length, "no bytes after the last tensor");
        int data = (int) (8 + n);
        assertEquals(Float.floatToIntBits(-1f), buf.getInt(data));
        assertEquals((short) 0x3C00, buf.getShort(data + 4), "1.0 as binary16");
        assertEquals((short) 0x4000, buf.getShort(data + 6), "2.0 as binary16");
        assertEquals((short) 0x4200, buf.getShort(data + 8), "3.0 as binary16");
        assertEquals(-2L, buf.getLong(data + 10));
    }

    @Test
    void overwritesAtomicallyWithoutLeavingTempFiles() throws Exception {
        Path file = dir.resolve("w.safetensors");
        new SafetensorsWriter().putFloats("x", new long[] {1}, new float[] {1f}).write(file);
        float[] data = {2f, 3f};
        SafetensorsWriter w = new SafetensorsWriter().putFloats("x", new long[] {2}, data);
        data[0] = 99f; // the writer copied the array when it was added
        w.write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {2f, 3f}, f.floats("x"));
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("w.safetensors"), s.map(p -> p.getFileName().toString()).toList());
        }
        // Permissions follow the umask like any new file, not a temp file's owner-only ones.
        Path plain = Files.createFile(dir.resolve("plain"));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
    }

    @Test
    void rejectsInconsistentInput() {
        SafetensorsWriter w = new SafetensorsWriter().putFloats("x", new long[] {2}, new float[] {1f, 2f});
        var mismatch = assertThrows(IllegalArgumentException.class,
                () -> w.putFloats("y", new long[] {2, 3}, new float[5]));
        assertTrue(mismatch.getMessage().contains("'y'") && mismatch.getMessage().contains("6 elements")
                && mismatch.getMessage().contains("5"), mismatch.getMessage());
        var duplicate = assertThrows(IllegalArgumentException.class,
                () -> w.putLongs("x", new long[] {1}, new long[1]));
        assertTrue(duplicate.getMessage().contains("'x'"), duplicate.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.putLongs("__metadata__", new long[] {1}, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("n", new long[] {-1}, new float[0]));
        var dtype = assertThrows(IllegalArgumentException.class,
                () -> w.putFloats("d", new long[] {1}, new float[1], DType.I64));
        assertTrue(dtype.getMessage().contains("I64"), dtype.getMessage());
    }

    private static void assertOffsets(JsonNode entry, String dtype, long begin, long end) {
        assertEquals(dtype, entry.get("dtype").asText());
        assertEquals(begin, entry.get("data_offsets").get(0).asLong());
        assertEquals(end, entry.get("data_offsets").get(1).asLong());
    }

    static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[i]);
            assertEquals(e, a, "element " + i + ": expected " + expected[i] + " (0x" + Integer.toHexString(e)
                    + ") but read " + actual[i] + " (0x" + Integer.toHexString(a) + ")");
        }
    }
}
