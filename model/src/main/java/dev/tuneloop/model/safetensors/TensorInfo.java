package dev.tuneloop.model.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor entry of a safetensors header: dtype, shape and its byte range {@code [begin, end)} relative to the start
 * of the data section (after the 8-byte length and the JSON header).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in shape "
                        + Arrays.toString(shape));
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("tensor '" + name + "' has invalid byte range [" + begin + ", " + end
                    + ")");
        }
    }

    /** A copy of the shape (the record keeps its own). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions; 0 for a scalar. */
    public int rank() {
        return shape.length;
    }

    /** Product of the dimensions (1 for a scalar); throws {@link ArithmeticException} if it overflows a long. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** {@code end - begin}. */
    public long byteSize() {
        return end - begin;
    }

    /** The shape as {@code [1024, 64]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " bytes [" + begin + ", " + end + ")";
    }
}
