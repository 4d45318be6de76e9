package dev.tuneloop.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds a safetensors file: the 8-byte little-endian header length, the JSON header padded with spaces to a multiple
 * of 8 bytes, then the tensors' data, sorted by name, contiguous and without gaps. The arrays passed in are copied,
 * so later changes by the caller do not reach the file.
 */
public final class SafetensorsWriter {
    private static final int IO_BUFFER_BYTES = 1 << 20;

    private final SortedMap<String, String> metadata = new TreeMap<>();
    private final SortedMap<String, Entry> tensors = new TreeMap<>();

    /** A tensor to write: either {@code floats} or {@code longs} is set. */
    private record Entry(DType dtype, long[] shape, float[] floats, long[] longs) {
        long length() {
            return floats != null ? floats.length : longs.length;
        }
    }

    public SafetensorsWriter metadata(String key, String value) {
        Objects.requireNonNull(key, "metadata key");
        Objects.requireNonNull(value, () -> "metadata value for key '" + key + "'");
        metadata.put(key, value);
        return this;
    }

    /** Adds an F32 tensor. */
    public SafetensorsWriter putFloats(String name, long[] shape, float[] data) {
        return putFloats(name, shape, data, DType.F32);
    }

    /** Adds a tensor stored as F32, F16 or BF16 (narrowed with round to nearest even). */
    public SafetensorsWriter putFloats(String name, long[] shape, float[] data, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("tensor '" + name + "': putFloats writes F32, F16 or BF16, not "
                    + dtype);
        }
        Objects.requireNonNull(data, () -> "data of tensor '" + name + "'");
        return put(name, new Entry(dtype, checkShape(name, shape, data.length), data.clone(), null));
    }

    /** Adds an I64 tensor. */
    public SafetensorsWriter putLongs(String name, long[] shape, long[] data) {
        Objects.requireNonNull(data, () -> "data of tensor '" + name + "'");
        return put(name, new Entry(DType.I64, checkShape(name, shape, data.length), null, data.clone()));
    }

    /** Writes the file to a temporary file in the same folder, then moves it over {@code file} atomically. */
    public void write(Path file) throws IOException {
        byte[] header = header(file);
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: its owner-only permissions would stay on the final file.
        String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path tmp = dir.resolve("." + file.getFileName() + "." + suffix + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.allocate(IO_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                drain(out, buf);
                for (ByteBuffer h = ByteBuffer.wrap(header); h.hasRemaining(); ) {
                    out.write(h);
                }
                for (Entry e : tensors.values()) {
                    writeData(out, buf, e);
                }
                drain(out, buf);
                out.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write " + file + " atomically: " + e.getMessage(), e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private SafetensorsWriter put(String name, Entry entry) {
        Objects.requireNonNull(name, "tensor name");
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' is reserved for metadata and cannot name a tensor");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        tensors.put(name, entry);
        return this;
    }

    private static long[] checkShape(String name, long[] shape, int length) {
        Objects.requireNonNull(shape, () -> "shape of tensor '" + name + "'");
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
            numel = Math.multiplyExact(numel, d);
        }
        if (numel != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has "
                    + numel + " elements but the data has " + length);
        }
        return shape.clone();
    }

    private byte[] header(Path file) throws IOException {
        ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var t : tensors.entrySet()) {
            Entry e = t.getValue();
            long end = offset + e.length() * e.dtype().bytes();
            ObjectNode node = root.putObject(t.getKey());
            node.put("dtype", e.dtype().name());
            var shape = node.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = SafetensorsHeader.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": cannot serialise the header: " + e.getOriginalMessage(), e);
        }
        int padded = (json.length + 7) / 8 * 8;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new IOException(file + ": header would be " + padded + " bytes, over the "
                    + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit readers enforce");
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(FileChannel out, ByteBuffer buf, Entry e) throws IOException {
        int n = (int) e.length();
        int perChunk = buf.capacity() / e.dtype().bytes();
        for (int from = 0; from < n; from += perChunk) {
            drain(out, buf);
            int count = Math.min(perChunk, n - from);
            switch (e.dtype()) {
                case F32 -> buf.asFloatBuffer().put(e.floats(), from, count);
                case I64 -> buf.asLongBuffer().put(e.longs(), from, count);
                case F16 -> {
                    for (int i = 0; i < count; i++) {
                        buf.putShort(2 * i, HalfFloats.floatToF16(e.floats()[from + i]));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < count; i++) {
                        buf.putShort(2 * i, HalfFloats.floatToBf16(e.floats()[from + i]));
                    }
                }
                default -> throw new AssertionError(e.dtype());
            }
            buf.position(count * e.dtype().bytes());
        }
    }

    private static void drain(FileChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        buf.clear();
    }
}
