package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 2,000 seeded random mutations of a small valid file: each either reads completely or fails with an IOException or
 * IllegalArgumentException whose message names the file. Any other throwable (index out of bounds, arithmetic
 * overflow, out of memory, ...) fails the test with the iteration and mutation that caused it.
 */
class SafetensorsFuzzTest {
    private static final String[] TOKENS = {"-1", "1e3", "1.5", "\"", "{", "}", "[", "]", ",", ":", "F16", "I8", "BOOL",
        "F64", "99999999999999999999", "9223372036854775807", "null", "true", "__metadata__", "0", "4", "\\u0000", " "};

    @Test
    void mutatedFilesNeverEscapeTheContract(@TempDir Path dir) throws Exception {
        byte[] base = baseFile();
        Random rnd = new Random(20240601L);
        int opened = 0;
        int rejected = 0;
        for (int i = 0; i < 2000; i++) {
            int kind = rnd.nextInt(9);
            byte[] mutated = kind == 8 ? mutate(mutate(base, rnd.nextInt(8), rnd), rnd.nextInt(8), rnd)
                    : mutate(base, kind, rnd);
            // A new file each time: overwriting a file that earlier iterations still have mapped is slow.
            Path file = Files.write(dir.resolve("fuzz-" + i + ".safetensors"), mutated);
            try {
                // Every 4th file goes through memory mapping in 16-byte windows; the rest through positional reads.
                readEverything(i % 4 == 0 ? SafetensorsFile.open(file, 16, 8) : SafetensorsFile.open(file));
                opened++;
            } catch (IOException | IllegalArgumentException e) {
                if (e.getMessage() == null || !e.getMessage().contains(file.toString())) {
                    fail("iteration " + i + " (mutation " + kind + "): message does not name the file: " + e, e);
                }
                rejected++;
            } catch (Throwable t) {
                fail("iteration " + i + " (mutation " + kind + ") escaped with " + t, t);
            }
        }
        assertTrue(opened > 100 && rejected > 500,
                "both outcomes exercised: opened " + opened + ", rejected " + rejected);
    }

    /** Reads every tensor with both accessors (the wrong one must throw IllegalArgumentException), then closes. */
    private static void readEverything(SafetensorsFile opened) {
        try (SafetensorsFile f = opened) {
            for (TensorInfo t : f.tensors().values()) {
                long n = t.dtype().isFloatingPoint() ? f.floats(t.name()).length : f.longs(t.name()).length;
                if (n != t.numel()) {
                    fail(t + ": read " + n + " elements");
                }
                try {
                    if (t.dtype().isFloatingPoint()) {
                        f.longs(t.name());
                    } else {
                        f.floats(t.name());
                    }
                    fail(t + ": the wrong accessor succeeded");
                } catch (IllegalArgumentException expected) {
                    // the dtype was named; keep going
                }
            }
        }
    }

    private static byte[] mutate(byte[] in, int kind, Random rnd) {
        byte[] b = in.clone();
        int headerEnd = (int) Math.min(b.length, 8 + Math.max(0, Math.min(Integer.MAX_VALUE - 16,
                b.length >= 8 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : 0)));
        switch (kind) {
            case 0 -> { // flip a few bits, in the data section or anywhere
                boolean dataOnly = rnd.nextBoolean() && headerEnd < b.length;
                for (int k = 1 + rnd.nextInt(4); k > 0 && b.length > 0; k--) {
                    int p = dataOnly ? headerEnd + rnd.nextInt(b.length - headerEnd) : rnd.nextInt(b.length);
                    b[p] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // random bytes inside the header
                for (int k = 1 + rnd.nextInt(3); k > 0 && headerEnd > 8; k--) {
                    b[8 + rnd.nextInt(headerEnd - 8)] = (byte) rnd.nextInt(256);
                }
            }
            case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncate
            case 3 -> { // extend with random bytes
                int old = b.length;
                b = Arrays.copyOf(b, old + 1 + rnd.nextInt(64));
                for (int k = old; k < b.length; k++) {
                    b[k] = (byte) rnd.nextInt(256);
                }
            }
            case 4 -> { // lie about the header length
                if (b.length >= 8) {
                    long old = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
                    long lie = switch (rnd.nextInt(4)) {
                        case 0 -> old + rnd.nextInt(33) - 16;
                        case 1 -> rnd.nextLong();
                        case 2 -> rnd.nextInt(b.length + 8);
                        default -> 100_000_000L + rnd.nextInt(3) - 1;
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lie);
                }
            }
            case 5 -> { // change a digit in the header (shapes, offsets)
                for (int tries = 0; tries < 50 && headerEnd > 8; tries++) {
                    int p = 8 + rnd.nextInt(headerEnd - 8);
                    if (b[p] >= '0' && b[p] <= '9') {
                        b[p] = (byte) ('0' + rnd.nextInt(10));
                        break;
                    }
                }
            }
            case 6 -> { // replace a stretch of the header with a JSON-ish token
                if (headerEnd > 8) {
                    int p = 8 + rnd.nextInt(headerEnd - 8);
                    byte[] tok = TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                    System.arraycopy(tok, 0, b, p, Math.min(tok.length, headerEnd - p));
                }
            }
            default -> { // random garbage
                b = new byte[rnd.nextInt(300)];
                rnd.nextBytes(b);
                if (b.length >= 8 && rnd.nextBoolean()) {
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, rnd.nextInt(b.length));
                }
            }
        }
        return b;
    }

    /** Metadata and one small tensor of every dtype, data filled with a fixed pattern. */
    private static byte[] baseFile() {
        DType[] types = DType.values();
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"fuzz\"}");
        long offset = 0;
        for (int i = 0; i < types.length; i++) {
            int n = 3 + i % 4;
            long end = offset + (long) n * types[i].bytes();
            h.append(",\"t").append(i).append('.').append(types[i].name().toLowerCase()).append("\":{\"dtype\":\"")
                    .append(types[i].name()).append("\",\"shape\":[").append(n).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) {
            h.append(' ');
        }
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        for (int i = 0; b.hasRemaining(); i++) {
            b.put((byte) (i * 37 + 11));
        }
        return b.array();
    }
}
