package dev.tuneloop.model.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.function.ObjIntConsumer;
import java.util.stream.Collectors;

/**
 * A memory-mapped, validated safetensors file. The header is parsed and checked completely by {@link #open}; tensor
 * data is mapped per tensor (in windows of at most 1 GiB, so files and tensors beyond 2 GiB work) only when read;
 * tensors of at most 64 KiB are read with a plain positional read instead. {@link #read(String, byte[])} takes the same
 * format from memory (a file fetched from object storage, never written to disk).
 * Reads are thread-safe. Arrays are Java arrays, so a tensor can have at most {@link #MAX_ELEMENTS} elements.
 *
 * <p>Format: 8-byte little-endian header length N, N bytes of JSON header
 * ({@code {"__metadata__": {..}, "name": {"dtype", "shape", "data_offsets": [begin, end]}}}), then the data section,
 * little-endian, covered exactly by the tensors' byte ranges.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The largest array length HotSpot allows. */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    static final int DEFAULT_WINDOW_BYTES = 1 << 30;

    /** Tensors up to this size are read with one positional read instead of a mapping. */
    static final int SMALL_TENSOR_BYTES = 1 << 16;

    private final Path path; // null for a file read from memory
    private final String name; // the path, or the name given to read(): what errors say
    private final FileChannel channel; // exactly one of channel and memory
    private final ByteBuffer memory;
    private final long dataStart;
    private final SafetensorsHeader header;
    private final int windowBytes;
    private final int smallTensorBytes;

    private SafetensorsFile(Path path, String name, FileChannel channel, ByteBuffer memory, long dataStart,
            SafetensorsHeader header, int windowBytes, int smallTensorBytes) {
        this.path = path;
        this.name = name;
        this.channel = channel;
        this.memory = memory;
        this.dataStart = dataStart;
        this.header = header;
        this.windowBytes = windowBytes;
        this.smallTensorBytes = smallTensorBytes;
    }

    /**
     * Opens and validates {@code file}.
     *
     * @throws SafetensorsFormatException if the file breaks the format (the message names the file and the field)
     * @throws NoSuchFileException if it does not exist
     */
    public static SafetensorsFile open(Path file) throws IOException {
        return open(file, DEFAULT_WINDOW_BYTES, SMALL_TENSOR_BYTES);
    }

    /** As {@link #open(Path)} with other mapping sizes, so tests can cross window boundaries cheaply. */
    static SafetensorsFile open(Path file, int windowBytes, int smallTensorBytes) throws IOException {
        if (windowBytes <= 0 || windowBytes % 8 != 0 || smallTensorBytes < 0) {
            throw new IllegalArgumentException("window must be a positive multiple of 8 bytes, got " + windowBytes
                    + "; small-tensor size must be >= 0, got " + smallTensorBytes);
        }
        if (Files.isDirectory(file)) {
            throw new SafetensorsFormatException(file + " is a directory, not a safetensors file");
        }
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file not found");
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return validate(file, file.toString(), channel, null, channel.size(), windowBytes, smallTensorBytes);
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The safetensors file {@code data}, validated as by {@link #open(Path)}; {@code name} (such as the object's URI)
     * names it in errors. The array is not copied: the caller leaves it unchanged.
     *
     * @throws SafetensorsFormatException if the bytes break the format (the message names {@code name} and the field)
     */
    public static SafetensorsFile read(String name, byte[] data) throws SafetensorsFormatException {
        ByteBuffer memory = ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        try {
            return validate(null, name, null, memory, data.length, DEFAULT_WINDOW_BYTES, SMALL_TENSOR_BYTES);
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new AssertionError("memory reads throw no other IOException", e);
        }
    }

    private static SafetensorsFile validate(Path path, String name, FileChannel channel, ByteBuffer memory, long size,
            int windowBytes, int smallTensorBytes) throws IOException {
        if (size < 8) {
            throw new SafetensorsFormatException(name + " is " + size
                    + " bytes, too short for a safetensors file (it starts with an 8-byte header length)");
        }
        ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(name, channel, memory, lengthField, 0);
        long headerLength = lengthField.getLong(0);
        if (headerLength < 0 || headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(name + ": header length " + Long.toUnsignedString(headerLength)
                    + " bytes exceeds the limit of " + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength > size - 8) {
            throw new SafetensorsFormatException(name + ": header length " + headerLength
                    + " bytes runs past the end of the file (" + size + " bytes, so at most " + (size - 8) + ")");
        }
        byte[] json = new byte[(int) headerLength];
        readFully(name, channel, memory, ByteBuffer.wrap(json), 8);
        SafetensorsHeader header = SafetensorsHeader.parse(name, json, size - 8 - headerLength);
        return new SafetensorsFile(path, name, channel, memory, 8 + headerLength, header, windowBytes,
                smallTensorBytes);
    }

    /** What errors call this file: its path, or the name given to {@link #read(String, byte[])}. */
    public String name() {
        return name;
    }

    /** The file, or {@code null} for one {@link #read(String, byte[]) read from memory}. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} entries, sorted by key; empty if the header has none. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** All tensors, sorted by name. */
    public Map<String, TensorInfo> tensors() {
        return header.tensors();
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** @throws IllegalArgumentException naming this file and the tensor if there is no such tensor */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException(this.name + ": no tensor '" + name + "' (the file has "
                    + header.tensors().size() + " tensors" + sample() + ")");
        }
        return t;
    }

    /**
     * The elements of a floating-point tensor (F32, F16, BF16, or F64 narrowed to float) in row-major order.
     *
     * @throws IllegalArgumentException if the tensor is absent, has an integer dtype or too many elements
     * @throws UncheckedIOException if reading fails (for example, the file shrank after it was opened)
     */
    public float[] floats(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(this.name + ": tensor '" + name + "' has integer dtype " + t.dtype()
                    + "; floats() reads F64, F32, F16 and BF16 (use longs())");
        }
        float[] out = new float[arrayLength(t)];
        switch (t.dtype()) {
            case F32 -> forEachWindow(t, (buf, at) -> buf.asFloatBuffer().get(out, at, buf.remaining() / 4));
            case F64 -> forEachWindow(t, (buf, at) -> {
                DoubleBuffer d = buf.asDoubleBuffer();
                for (int i = 0, n = d.remaining(); i < n; i++) {
                    out[at + i] = (float) d.get(i);
                }
            });
            case BF16 -> forEachWindow(t, (buf, at) -> {
                ShortBuffer s = buf.asShortBuffer();
                for (int i = 0, n = s.remaining(); i < n; i++) {
                    out[at + i] = Float.intBitsToFloat((s.get(i) & 0xFFFF) << 16);
                }
            });
            case F16 -> forEachWindow(t, (buf, at) -> {
                ShortBuffer s = buf.asShortBuffer();
                for (int i = 0, n = s.remaining(); i < n; i++) {
                    out[at + i] = HalfFloats.f16ToFloat(s.get(i));
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * The elements of an integer tensor (I64, I32, I16, I8, U8 unsigned, BOOL as 0/1) in row-major order.
     *
     * @throws IllegalArgumentException if the tensor is absent, has a floating-point dtype or too many elements
     * @throws UncheckedIOException if reading fails
     */
    public long[] longs(String name) {
        TensorInfo t = info(name);
        if (t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(this.name + ": tensor '" + name + "' has floating-point dtype " + t.dtype()
                    + "; longs() reads I64, I32, I16, I8, U8 and BOOL (use floats())");
        }
        long[] out = new long[arrayLength(t)];
        switch (t.dtype()) {
            case I64 -> forEachWindow(t, (buf, at) -> buf.asLongBuffer().get(out, at, buf.remaining() / 8));
            case I32 -> forEachWindow(t, (buf, at) -> {
                IntBuffer b = buf.asIntBuffer();
                for (int i = 0, n = b.remaining(); i < n; i++) {
                    out[at + i] = b.get(i);
                }
            });
            case I16 -> forEachWindow(t, (buf, at) -> {
                ShortBuffer b = buf.asShortBuffer();
                for (int i = 0, n = b.remaining(); i < n; i++) {
                    out[at + i] = b.get(i);
                }
            });
            case I8 -> forEachWindow(t, (buf, at) -> {
                for (int i = 0, n = buf.remaining(); i < n; i++) {
                    out[at + i] = buf.get(i);
                }
            });
            case U8 -> forEachWindow(t, (buf, at) -> {
                for (int i = 0, n = buf.remaining(); i < n; i++) {
                    out[at + i] = buf.get(i) & 0xFF;
                }
            });
            case BOOL -> forEachWindow(t, (buf, at) -> {
                for (int i = 0, n = buf.remaining(); i < n; i++) {
                    out[at + i] = buf.get(i) != 0 ? 1 : 0;
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": closing failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + name + ", " + header.tensors().size() + " tensors]";
    }

    private int arrayLength(TensorInfo t) {
        long n = t.numel();
        if (n > MAX_ELEMENTS) {
            throw new IllegalArgumentException(name + ": tensor '" + t.name() + "' " + t.dtype() + " "
                    + t.shapeString() + " has " + n + " elements, more than a Java array holds (" + MAX_ELEMENTS + ")");
        }
        return (int) n;
    }

    /**
     * Hands the tensor's bytes to {@code decode} as little-endian buffers with the index of their first element: one
     * heap buffer for a small tensor, else memory-mapped windows of at most {@code windowBytes}.
     */
    private void forEachWindow(TensorInfo t, ObjIntConsumer<ByteBuffer> decode) {
        long size = t.byteSize();
        int elementBytes = t.dtype().bytes();
        if (memory != null) { // validated: the data section holds every tensor, and it is below 2 GiB
            decode.accept(memory.slice((int) (dataStart + t.begin()), (int) size).order(ByteOrder.LITTLE_ENDIAN), 0);
            return;
        }
        try {
            long fileSize = channel.size();
            if (dataStart + t.end() > fileSize) {
                throw new SafetensorsFormatException(name + ": tensor '" + t.name() + "' ends at byte "
                        + (dataStart + t.end()) + " but the file is now " + fileSize + " bytes (changed since open)");
            }
            if (size <= smallTensorBytes) {
                // A small read costs less than a mapping, and mappings are only released by the garbage collector.
                ByteBuffer heap = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
                readFully(name, channel, null, heap, dataStart + t.begin());
                decode.accept(heap.flip(), 0);
                return;
            }
            for (long pos = 0; pos < size; pos += windowBytes) {
                long length = Math.min(windowBytes, size - pos);
                ByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + pos, length)
                        .order(ByteOrder.LITTLE_ENDIAN);
                decode.accept(window, (int) (pos / elementBytes));
            }
        } catch (SafetensorsFormatException e) {
            throw new UncheckedIOException(e.getMessage(), e); // already names the file and tensor
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(name + " is closed; cannot read tensor '" + t.name() + "'", e);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": reading tensor '" + t.name() + "' failed: " + e.getMessage(), e);
        }
    }

    private String sample() {
        if (header.tensors().isEmpty()) {
            return "";
        }
        return ", e.g. " + header.tensors().keySet().stream().limit(5).collect(Collectors.joining(", "));
    }

    private static void readFully(String file, FileChannel channel, ByteBuffer memory, ByteBuffer dst, long position)
            throws IOException {
        if (memory != null) {
            dst.put(memory.slice((int) position, dst.remaining()));
            return;
        }
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new SafetensorsFormatException(file + ": unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }
}
