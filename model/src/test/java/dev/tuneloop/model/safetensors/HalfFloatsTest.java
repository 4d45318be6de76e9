package dev.tuneloop.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    /** Widening of all 65536 binary16 patterns against the format's definition, evaluated in double. */
    @Test
    void f16WideningMatchesDefinitionForAllPatterns() {
        for (int bits = 0; bits < 0x10000; bits++) {
            int sign = bits >>> 15;
            int exp = (bits >>> 10) & 0x1F;
            int mant = bits & 0x3FF;
            float actual = HalfFloats.f16ToFloat((short) bits);
            if (exp == 0x1F) {
                if (mant == 0) {
                    assertEquals(sign == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY, actual, hex(bits));
                } else {
                    assertTrue(Float.isNaN(actual), hex(bits));
                    assertEquals(sign, Float.floatToRawIntBits(actual) >>> 31, "NaN sign " + hex(bits));
                }
                continue;
            }
            double magnitude = exp == 0 ? mant * Math.pow(2, -24) : (1024 + mant) * Math.pow(2, exp - 25);
            double expected = sign == 0 ? magnitude : -magnitude;
            if (Float.floatToRawIntBits((float) expected) != Float.floatToRawIntBits(actual)) {
                fail(hex(bits) + ": expected " + expected + " got " + actual);
            }
        }
        assertEquals(1f, HalfFloats.f16ToFloat((short) 0x3C00));
        assertEquals(65504f, HalfFloats.f16ToFloat((short) 0x7BFF));
        assertEquals(5.9604645e-8f, HalfFloats.f16ToFloat((short) 0x0001));
        assertEquals(-0f, HalfFloats.f16ToFloat((short) 0x8000));
    }

    @Test
    void f16RoundTripsAllPatternsBitExactly() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short back = HalfFloats.floatToF16(HalfFloats.f16ToFloat((short) bits));
            assertBits(bits, back & 0xFFFF, "round trip");
        }
    }

    @Test
    void bf16WideningAndRoundTripForAllPatterns() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = HalfFloats.bf16ToFloat((short) bits);
            assertBits(bits << 16, Float.floatToRawIntBits(f), "BF16 widening");
            assertBits(bits, HalfFloats.floatToBf16(f) & 0xFFFF, "BF16 round trip");
        }
    }

    /** For every pair of adjacent finite halves: the midpoint ties to the even one, anything off it goes nearer. */
    @Test
    void f16NarrowingRoundsToNearestEvenAtEveryMidpoint() {
        for (int lo = 0; lo < 0x7BFF; lo++) {
            int hi = lo + 1;
            float a = HalfFloats.f16ToFloat((short) lo);
            float b = HalfFloats.f16ToFloat((short) hi);
            float mid = (float) (((double) a + b) / 2); // 12 significant bits: exact in float
            int even = (lo & 1) == 0 ? lo : hi;
            checkNarrowing(mid, even);
            checkNarrowing(Math.nextDown(mid), lo);
            checkNarrowing(Math.nextUp(mid), hi);
            checkNarrowing(-mid, even | 0x8000);
            checkNarrowing(-Math.nextUp(mid), hi | 0x8000);
        }
        checkNarrowing(Math.nextDown(65520f), 0x7BFF);
        checkNarrowing(65520f, 0x7C00);
        checkNarrowing(Float.MAX_VALUE, 0x7C00);
        checkNarrowing(-1e10f, 0xFC00);
        checkNarrowing(0x1p-25f, 0x0000);
        checkNarrowing(Math.nextUp(0x1p-25f), 0x0001);
        checkNarrowing(Float.MIN_VALUE, 0x0000);
        checkNarrowing(-Float.MIN_VALUE, 0x8000);
    }

    /** Random floats: the chosen half is at least as near as both neighbours, and even on a tie. */
    @Test
    void f16NarrowingPicksNearestForRandomFloats() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float x = Float.intBitsToFloat(rnd.nextInt(0x38000000, 0x47800000) | (rnd.nextBoolean() ? 0x80000000 : 0));
            if (Math.abs(x) >= 65520f) {
                continue;
            }
            int h = HalfFloats.floatToF16(x) & 0xFFFF;
            double err = Math.abs((double) x - HalfFloats.f16ToFloat((short) h));
            for (int n : new int[] {h - 1, h + 1}) {
                if ((n & 0x7FFF) > 0x7BFF || ((n ^ h) & 0x8000) != 0) {
                    continue;
                }
                double nErr = Math.abs((double) x - HalfFloats.f16ToFloat((short) n));
                if (nErr < err || (nErr == err && (h & 1) != 0)) {
                    fail(x + " -> " + hex(h) + " but " + hex(n) + " is nearer or the even tie");
                }
            }
        }
    }

    /** BF16 narrowing against torch's formula, (bits + 0x7FFF + lsb) >> 16, at every midpoint and off it. */
    @Test
    void bf16NarrowingRoundsToNearestEven() {
        for (int hi = 0; hi < 0x7F80; hi++) {
            int bits = hi << 16;
            int even = (hi & 1) == 0 ? hi : hi + 1;
            assertBits(even, HalfFloats.floatToBf16(Float.intBitsToFloat(bits | 0x8000)) & 0xFFFF, "BF16 narrowing");
            assertBits(hi, HalfFloats.floatToBf16(Float.intBitsToFloat(bits | 0x7FFF)) & 0xFFFF, "BF16 narrowing");
            assertBits(hi + 1, HalfFloats.floatToBf16(Float.intBitsToFloat(bits | 0x8001)) & 0xFFFF, "BF16 narrowing");
            assertBits(even | 0x8000, HalfFloats.floatToBf16(Float.intBitsToFloat(bits | 0x80008000)) & 0xFFFF,
                    "BF16 narrowing");
        }
        assertBits(0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xFFFF, "BF16 of MAX_VALUE overflows to +inf");
    }

    @Test
    void narrowingKeepsNaNs() {
        int[] nans = {0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FA00000, 0x7FFFFFFF, 0xFF800001};
        for (int n : nans) {
            float x = Float.intBitsToFloat(n);
            int h = HalfFloats.floatToF16(x) & 0xFFFF;
            assertTrue((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0, "F16 of NaN " + hex(n) + " is NaN: " + hex(h));
            assertEquals(n >>> 31, h >>> 15, "sign");
            int b = HalfFloats.floatToBf16(x) & 0xFFFF;
            assertTrue((b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0, "BF16 of NaN " + hex(n) + " is NaN: " + hex(b));
            assertEquals(n >>> 31, b >>> 15, "sign");
        }
    }

    private static void checkNarrowing(float x, int expectedBits) {
        assertBits(expectedBits, HalfFloats.floatToF16(x) & 0xFFFF, "F16 of " + x);
    }

    private static void assertBits(int expected, int actual, String what) {
        if (expected != actual) {
            fail(what + ": expected " + hex(expected) + " but got " + hex(actual));
        }
    }

    private static String hex(int bits) {
        return String.format("0x%04X", bits);
    }
}
