package dev.tuneloop.model.safetensors;

/**
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) conversions. Widening is exact; narrowing rounds to nearest, ties to
 * even (as torch does) and overflows to infinity. NaNs stay NaN with their sign and as much payload as fits; a payload
 * that would be lost entirely becomes the quiet bit, so every 16-bit NaN survives a widen/narrow round trip unchanged.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** binary16 bits (low 16 bits of {@code bits}) to float: normals, subnormals, signed zeros, infinities and NaNs. */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // Subnormal or zero: mant * 2^-24, exact in float.
            float magnitude = mant * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    /** Float to binary16 bits, round to nearest even; |x| >= 65520 becomes infinity. */
    public static short floatToF16(float x) {
        int f = Float.floatToRawIntBits(x);
        int sign = (f >>> 16) & 0x8000;
        int abs = f & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            int payload = (abs >>> 13) & 0x3FF;
            return (short) (sign | 0x7C00 | (payload == 0 ? 0x200 : payload));
        }
        if (abs >= 0x477FF000) {
            // 65520 is halfway between 65504 (odd mantissa) and 65536, so it ties up to infinity.
            return (short) (sign | 0x7C00);
        }
        if (abs < 0x38800000) {
            // Below the smallest normal half (2^-14): the result is round(|x| / 2^-24) as a subnormal half.
            int exp = abs >>> 23;
            if (exp < 102) {
                return (short) sign; // |x| < 2^-25 rounds to zero
            }
            int mant = (abs & 0x7FFFFF) | 0x800000;
            int shift = 126 - exp; // 14..24
            return (short) (sign | roundShift(mant, shift));
        }
        int h = (abs - ((127 - 15) << 23)) >>> 13;
        int rem = abs & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++; // a carry into the exponent is the correct next binade
        }
        return (short) (sign | h);
    }

    /** bfloat16 bits to float: exact, the bits become the float's top half. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Float to bfloat16 bits, round to nearest even; values past the largest finite bfloat16 become infinity. */
    public static short floatToBf16(float x) {
        int f = Float.floatToRawIntBits(x);
        if ((f & 0x7FFFFFFF) > 0x7F800000) {
            int top = f >>> 16;
            return (short) ((top & 0x7F) == 0 ? top | 0x40 : top);
        }
        return (short) ((f + 0x7FFF + ((f >>> 16) & 1)) >>> 16);
    }

    private static int roundShift(int value, int shift) {
        int q = value >>> shift;
        int rem = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) {
            q++;
        }
        return q;
    }
}
