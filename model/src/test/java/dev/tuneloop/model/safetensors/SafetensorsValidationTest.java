package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each format rule broken by a crafted file; the error names the file, the tensor or field, and the bad value. */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    private int counter;

    @Test
    void fileShorterThanTheLengthField() throws Exception {
        expectError(raw(new byte[0]), "is 0 bytes", "too short");
        expectError(raw(new byte[] {1, 0, 0, 0, 0}), "is 5 bytes", "too short");
    }

    @Test
    void headerLengthOverLimitIsRejectedBeforeAllocating() throws Exception {
        expectError(withLength(100_000_001L, "{}"), "header length 100000001", "limit of 100000000");
        expectError(withLength(-1L, "{}"), "header length 18446744073709551615", "limit");
        expectError(withLength(1L << 40, "{}"), "header length " + (1L << 40));
    }

    @Test
    void headerLengthPastEndOfFile() throws Exception {
        expectError(withLength(1000, "{}"), "header length 1000", "past the end of the file (10 bytes");
    }

    @Test
    void headerThatIsNotAJsonObject() throws Exception {
        expectError(craft("{\"t\": ", 0), "not valid JSON");
        expectError(craft("[1, 2]", 0), "must be a JSON object, got array");
        expectError(craft("", 0), "must be a JSON object, got nothing");
        expectError(craft("{} {\"x\": 1}", 0), "not valid JSON");
        byte[] invalidUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        expectError(craftBytes(invalidUtf8, 0), "not valid JSON");
    }

    @Test
    void duplicateKeysAreRejected() throws Exception {
        String t = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        expectError(craft("{\"t\":" + t + ",\"t\":" + t + "}", 4), "not valid JSON", "Duplicate", "'t'");
        expectError(craft("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "Duplicate", "'dtype'");
        expectError(craft("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "Duplicate", "'a'");
    }

    @Test
    void entryMissingOrMistypedFields() throws Exception {
        expectError(craft("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "missing 'dtype'");
        expectError(craft("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "missing 'shape'");
        expectError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w'", "missing 'data_offsets'");
        expectError(entry("5", "[1]", "[0,4]", 4), "dtype must be a string, got 5");
        expectError(entry("\"F32\"", "\"abc\"", "[0,4]", 4), "shape must be an array of integers, got \"abc\"");
        expectError(entry("\"F32\"", "[1.5]", "[0,4]", 4), "shape[0] must be a non-negative integer, got 1.5");
        expectError(entry("\"F32\"", "[99999999999999999999]", "[0,4]", 4), "shape[0]", "99999999999999999999");
        expectError(entry("\"F32\"", "[1]", "[0]", 4), "data_offsets must be [begin, end], got [0]");
        expectError(entry("\"F32\"", "[1]", "[0,\"4\"]", 4), "data_offsets[1]", "\"4\"");
        expectError(craft("{\"w\":7}", 0), "tensor 'w'", "must be an object", "got 7");
        expectError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4),
                "tensor 'w'", "unexpected field 'extra'");
    }

    @Test
    void unknownDtype() throws Exception {
        expectError(entry("\"F8_E4M3\"", "[4]", "[0,4]", 4), "tensor 'w'", "unsupported safetensors dtype 'F8_E4M3'",
                "BF16");
        expectError(entry("\"f32\"", "[1]", "[0,4]", 4), "'f32'");
    }

    @Test
    void negativeDimension() throws Exception {
        expectError(entry("\"F32\"", "[2,-1]", "[0,4]", 4), "tensor 'w'",
                "shape[1] must be a non-negative integer, got -1");
    }

    @Test
    void shapeAndByteRangeDisagree() throws Exception {
        expectError(entry("\"F32\"", "[2]", "[0,4]", 4), "tensor 'w'", "needs 8 bytes", "[0, 4] span 4");
        expectError(entry("\"BF16\"", "[3]", "[0,4]", 4), "needs 6 bytes");
        expectError(entry("\"U8\"", "[4294967296,4294967296,4294967296]", "[0,4]", 4), "tensor 'w'",
                "more elements than a long can count");
    }

    @Test
    void beginAfterEnd() throws Exception {
        expectError(entry("\"U8\"", "[4]", "[8,4]", 8), "tensor 'w'", "begin 8 > end 4");
    }

    @Test
    void offsetsPastTheDataSection() throws Exception {
        expectError(entry("\"F32\"", "[2]", "[0,8]", 4), "tensor 'w'", "past the end of the data section (4 bytes)");
        expectError(entry("\"F32\"", "[1]", "[1000000000000,1000000000004]", 4), "tensor 'w'", "1000000000004");
    }

    @Test
    void overlappingTensors() throws Exception {
        expectError(craft("{" + t("a", "F32", 2, 0, 8) + "," + t("b", "F32", 2, 4, 12) + "}", 12),
                "tensor 'b' bytes [4, 12) overlap tensor 'a' bytes [0, 8)");
        expectError(craft("{" + t("a", "F32", 1, 0, 4) + "," + t("b", "F32", 1, 0, 4) + "}", 4), "overlap");
    }

    @Test
    void holesAndTrailingBytesInTheDataSection() throws Exception {
        expectError(craft("{" + t("a", "F32", 1, 0, 4) + "," + t("b", "F32", 1, 8, 12) + "}", 12),
                "hole", "bytes [4, 8)", "tensor 'b'", "'a' ends at 4");
        expectError(craft("{" + t("a", "F32", 1, 4, 8) + "}", 8), "hole", "bytes [0, 4)", "tensor 'a'");
        expectError(craft("{" + t("a", "F32", 1, 0, 4) + "}", 12), "8 trailing bytes after the last tensor 'a'");
        expectError(craft("{}", 3), "3 trailing bytes with no tensor");
    }

    @Test
    void metadataMustMapStringsToStrings() throws Exception {
        expectError(craft("{\"__metadata__\":[1]}", 0), "__metadata__ must be an object of strings, got array [1]");
        expectError(craft("{\"__metadata__\":{\"total_size\":12}}", 0), "__metadata__['total_size']",
                "must be a string, got 12");
        expectError(craft("{\"__metadata__\":{\"k\":null}}", 0), "__metadata__['k']", "got null");
    }

    @Test
    void validEdgeCasesAreAccepted() throws Exception {
        // Zero-size tensors may sit at any boundary; a header with only metadata and no data is valid.
        Path file = craft("{\"__metadata__\":{\"format\":\"pt\"}," + t("a", "F32", 1, 0, 4) + ","
                + t("e", "F32", 0, 4, 4) + "," + t("z", "I64", 0, 0, 0) + "}   ", 4);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(3, f.tensors().size());
            assertEquals(0, f.floats("e").length);
        }
        try (SafetensorsFile f = SafetensorsFile.open(craft("{}", 0))) {
            assertTrue(f.tensors().isEmpty() && f.metadata().isEmpty());
        }
    }

    @Test
    void missingFileAndDirectory() throws Exception {
        Path missing = dir.resolve("nope.safetensors");
        var e = assertThrows(NoSuchFileException.class, () -> SafetensorsFile.open(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        Path folder = Files.createDirectory(dir.resolve("d.safetensors"));
        var d = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(folder));
        assertTrue(d.getMessage().contains(folder + " is a directory"), d.getMessage());
    }

    static String t(String name, String dtype, long n, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + n + "],\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    private Path entry(String dtype, String shape, String offsets, int dataBytes) throws Exception {
        return craft("{\"w\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}",
                dataBytes);
    }

    private Path craft(String header, int dataBytes) throws Exception {
        return craftBytes(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path craftBytes(byte[] header, int dataBytes) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        return raw(b.array());
    }

    /** A file whose length field says {@code length} whatever follows. */
    private Path withLength(long length, String rest) throws Exception {
        byte[] r = rest.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + r.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(length).put(r);
        return raw(b.array());
    }

    private Path raw(byte[] bytes) throws Exception {
        return Files.write(dir.resolve("crafted-" + (counter++) + ".safetensors"), bytes);
    }

    /** The same error from the file and from its bytes read in memory (named as an object URI would be). */
    private static void expectError(Path file, String... fragments) throws Exception {
        var e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file).close());
        String name = "s3://bucket/" + file.getFileName();
        byte[] bytes = Files.readAllBytes(file);
        var inMemory = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.read(name, bytes).close());
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        assertTrue(inMemory.getMessage().contains(name), "message names the object: " + inMemory.getMessage());
        for (String m : new String[] {e.getMessage(), inMemory.getMessage()}) {
            for (String f : fragments) {
                assertTrue(m.contains(f), "message should contain «" + f + "»: " + m);
            }
        }
    }
}
