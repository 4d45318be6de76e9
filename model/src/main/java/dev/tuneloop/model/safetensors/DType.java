package dev.tuneloop.model.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The safetensors element types tuneloop reads and writes; {@link #name()} is the header's {@code dtype} string. */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int bytes;
    private final boolean floatingPoint;

    DType(int bytes, boolean floatingPoint) {
        this.bytes = bytes;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for the types {@link SafetensorsFile#floats} reads, false for those {@link SafetensorsFile#longs} reads. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * The dtype named by a safetensors header string (case-sensitive, as the format defines it).
     *
     * @throws IllegalArgumentException naming the value and the supported types
     */
    public static DType parse(String s) {
        if (s != null) {
            for (DType t : values()) {
                if (t.name().equals(s)) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype " + (s == null ? "null" : "'" + s + "'")
                + " (supported: " + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
    }
}
