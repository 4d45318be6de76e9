package dev.tuneloop.contracts;

import java.util.regex.Pattern;

/** Field checks shared by the event records; every failure names the record, the field and the value. */
final class Check {
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    /** Run ids, checkpoint and served-model names end up in S3 keys and Kafka keys: keep them path-safe. */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private Check() {}

    static String text(String record, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(record + "." + field + " must not be blank, got " + quote(value));
        }
        return value;
    }

    static <T> T present(String record, String field, T value) {
        if (value == null) {
            throw new IllegalArgumentException(record + "." + field + " is required");
        }
        return value;
    }

    static String sha256(String record, String field, String value) {
        if (value == null || !SHA256_HEX.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    record + "." + field + " must be 64 lowercase hex digits (sha256), got " + quote(value));
        }
        return value;
    }

    static String optionalSha256(String record, String field, String value) {
        return value == null ? null : sha256(record, field, value);
    }

    static String name(String record, String field, String value) {
        if (value == null || !SAFE_NAME.matcher(value).matches() || value.contains("..")) {
            throw new IllegalArgumentException(record + "." + field
                    + " must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit, without '..', got "
                    + quote(value));
        }
        return value;
    }

    static long atLeast(String record, String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(record + "." + field + " must be >= " + min + ", got " + value);
        }
        return value;
    }

    static double finite(String record, String field, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(record + "." + field + " must be a finite number, got " + value);
        }
        return value;
    }

    static double range(String record, String field, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(
                    record + "." + field + " must be in [" + min + ", " + max + "], got " + value);
        }
        return value;
    }

    static String quote(String value) {
        return value == null ? "null" : "'" + value + "'";
    }
}
