package dev.tuneloop.model.squad;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Python's {@code repr(float)} (also what {@code json.dumps} writes): the shortest decimal that reads back as the
 * same double, closest to it when several are as short; positional when the decimal exponent is in [-4, 16),
 * otherwise {@code 1.5e-05} / {@code 1e+16}. Java 17's {@code Double.toString} is neither always shortest nor
 * formatted the same way ({@code 1.0E-5}, {@code 1.0E7}).
 */
public final class PythonFloat {
    private PythonFloat() {}

    public static String repr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortest(Math.abs(d));
        String digits = shortest.unscaledValue().toString();
        // value = 0.digits × 10^decpt
        int decpt = digits.length() - shortest.scale();
        String body = (decpt > -4 && decpt <= 16) ? positional(digits, decpt) : scientific(digits, decpt);
        return d < 0 ? "-" + body : body;
    }

    /** The shortest round-tripping decimal of a positive finite double, trailing zeros stripped. */
    private static BigDecimal shortest(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal best = null;
            // The nearest candidate, and its neighbours on either side (the round-trip interval of a power of two
            // is asymmetric, so the nearest p-digit decimal can miss it while the other neighbour hits it).
            for (RoundingMode mode : new RoundingMode[] {RoundingMode.HALF_EVEN, RoundingMode.FLOOR,
                    RoundingMode.CEILING}) {
                BigDecimal candidate = exact.round(new MathContext(precision, mode));
                if (candidate.doubleValue() == d && (best == null
                        || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = candidate;
                }
            }
            if (best != null) {
                return best.stripTrailingZeros();
            }
        }
        throw new AssertionError("17 significant digits always round-trip: " + d);
    }

    private static String positional(String digits, int decpt) {
        if (decpt <= 0) {
            return "0." + "0".repeat(-decpt) + digits;
        }
        if (decpt >= digits.length()) {
            return digits + "0".repeat(decpt - digits.length()) + ".0";
        }
        return digits.substring(0, decpt) + "." + digits.substring(decpt);
    }

    private static String scientific(String digits, int decpt) {
        int exponent = decpt - 1;
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String sign = exponent < 0 ? "-" : "+";
        int abs = Math.abs(exponent);
        return mantissa + "e" + sign + (abs < 10 ? "0" : "") + abs;
    }
}
