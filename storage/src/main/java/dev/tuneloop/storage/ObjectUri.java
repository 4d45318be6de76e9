package dev.tuneloop.storage;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * An object (or, with a trailing {@code /}, a folder prefix) in S3: {@code s3://bucket/key}. The key is taken
 * literally (no percent-decoding). Rejected: empty bucket or key, bucket names S3 does not allow, a key starting with
 * {@code /}, empty, {@code .} or {@code ..} segments, backslashes and control characters.
 */
public record ObjectUri(String bucket, String key) {
    public static final String SCHEME = "s3://";
    private static final Pattern BUCKET_CHARS = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final int MAX_KEY_BYTES = 1024;

    public ObjectUri {
        String uri = SCHEME + bucket + "/" + key;
        requireValidBucket(bucket, uri);
        requireValidKey(key, uri);
    }

    public static ObjectUri parse(String uri) {
        if (uri == null || !uri.startsWith(SCHEME)) {
            throw new IllegalArgumentException("invalid S3 URI " + quote(uri) + ": must start with " + SCHEME);
        }
        String rest = uri.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("invalid S3 URI " + quote(uri) + ": no key after the bucket");
        }
        return new ObjectUri(rest.substring(0, slash), rest.substring(slash + 1));
    }

    /** True for a folder prefix ({@code s3://bucket/runs/r1/}). */
    public boolean isFolder() {
        return key.endsWith("/");
    }

    /** This folder's child: {@code s3://b/runs/} resolve {@code r1/adapter.json} is {@code s3://b/runs/r1/adapter.json}. */
    public ObjectUri resolve(String relative) {
        if (!isFolder()) {
            throw new IllegalArgumentException("cannot resolve " + quote(relative) + " against " + this
                    + ": not a folder (a folder key ends with '/')");
        }
        return new ObjectUri(bucket, key + relative);
    }

    /** The last segment of the key (for a folder, the segment before the trailing '/'). */
    public String fileName() {
        String k = isFolder() ? key.substring(0, key.length() - 1) : key;
        return k.substring(k.lastIndexOf('/') + 1);
    }

    @Override
    public String toString() {
        return SCHEME + bucket + "/" + key;
    }

    /** S3's rules for general-purpose bucket names; the error names {@code context} (the URI or setting). */
    public static void requireValidBucket(String bucket, String context) {
        String rule = null;
        if (bucket == null || bucket.isEmpty()) {
            rule = "the bucket name is empty";
        } else if (bucket.length() < 3 || bucket.length() > 63) {
            rule = "bucket name '" + bucket + "' must be 3-63 characters long, is " + bucket.length();
        } else if (!BUCKET_CHARS.matcher(bucket).matches()) {
            rule = "bucket name '" + bucket
                    + "' may only hold lowercase letters, digits, '.' and '-', and must start and end with a letter or digit";
        } else if (bucket.contains("..")) {
            rule = "bucket name '" + bucket + "' must not contain two adjacent periods";
        } else if (IPV4.matcher(bucket).matches()) {
            rule = "bucket name '" + bucket + "' must not look like an IP address";
        } else if (bucket.startsWith("xn--") || bucket.startsWith("sthree-")) {
            rule = "bucket name '" + bucket + "' must not start with 'xn--' or 'sthree-'";
        } else if (bucket.endsWith("-s3alias") || bucket.endsWith("--ol-s3")) {
            rule = "bucket name '" + bucket + "' must not end with '-s3alias' or '--ol-s3'";
        }
        if (rule != null) {
            throw new IllegalArgumentException("invalid S3 URI " + quote(context) + ": " + rule);
        }
    }

    private static void requireValidKey(String key, String uri) {
        String rule = null;
        if (key == null || key.isEmpty()) {
            rule = "the key is empty";
        } else if (key.startsWith("/")) {
            rule = "the key must not start with '/'";
        } else if (key.indexOf('\\') >= 0) {
            rule = "the key must not contain a backslash";
        } else if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            rule = "the key is longer than " + MAX_KEY_BYTES + " bytes";
        } else {
            for (int i = 0; i < key.length() && rule == null; i++) {
                char c = key.charAt(i);
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                    rule = String.format("the key contains control character U+%04X at index %d", (int) c, i);
                }
            }
            String body = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
            for (String segment : body.split("/", -1)) {
                if (rule != null) {
                    break;
                }
                if (segment.equals("..")) {
                    rule = "the key must not contain a '..' segment (path traversal)";
                } else if (segment.equals(".")) {
                    rule = "the key must not contain a '.' segment";
                } else if (segment.isEmpty()) {
                    rule = "the key must not contain an empty segment ('//')";
                }
            }
        }
        if (rule != null) {
            throw new IllegalArgumentException("invalid S3 URI " + quote(uri) + ": " + rule);
        }
    }

    private static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("'");
        for (char c : value.toCharArray()) {
            out.append(c < 0x20 || (c >= 0x7f && c <= 0x9f) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return out.append('\'').toString();
    }
}
