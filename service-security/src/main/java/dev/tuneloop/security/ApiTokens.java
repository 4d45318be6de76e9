package dev.tuneloop.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configured tokens, kept only as sha256 digests. A presented token is hashed and compared with every digest
 * in constant time ({@link MessageDigest#isEqual}), without stopping at the first match. No message of this class
 * contains a token.
 */
public final class ApiTokens {
    /** Shortest token accepted in plain form: guessing 16 random characters over the network is hopeless. */
    public static final int MIN_PLAIN_LENGTH = 16;
    static final String HASH_PREFIX = "sha256:";

    private record Entry(String role, byte[] digest) {}

    private final List<Entry> entries;

    /**
     * @param byRole role → tokens (plain or {@code sha256:<hex>}); {@code keyPrefix} + role names the config key in
     *               error messages
     */
    public ApiTokens(Map<String, List<String>> byRole, String keyPrefix) {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> role : byRole.entrySet()) {
            int i = 0;
            for (String token : role.getValue()) {
                out.add(new Entry(role.getKey(), digestOf(token, keyPrefix + role.getKey() + "[" + i + "]")));
                i++;
            }
        }
        entries = List.copyOf(out);
    }

    public static ApiTokens from(AuthConfig.Tokens tokens) {
        Map<String, List<String>> byRole = new LinkedHashMap<>();
        byRole.put(Roles.OPERATOR, tokens.operator().orElse(List.of()));
        byRole.put(Roles.VIEWER, tokens.viewer().orElse(List.of()));
        byRole.put(Roles.CLIENT, tokens.client().orElse(List.of()));
        return new ApiTokens(byRole, "tuneloop.auth.tokens.");
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** How many tokens each role has, for the start-up log line. */
    public Map<String, Long> counts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String role : List.of(Roles.OPERATOR, Roles.VIEWER, Roles.CLIENT)) {
            counts.put(role, entries.stream().filter(e -> e.role().equals(role)).count());
        }
        return counts;
    }

    /** The role of the presented token, if it is one of the configured ones. */
    public Optional<String> roleOf(String presented) {
        byte[] digest = sha256(presented);
        String found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.digest(), digest) && found == null) {
                found = e.role();
            }
        }
        return Optional.ofNullable(found);
    }

    private static byte[] digestOf(String token, String key) {
        String t = token == null ? "" : token.strip();
        if (t.regionMatches(true, 0, HASH_PREFIX, 0, HASH_PREFIX.length())) {
            String hex = t.substring(HASH_PREFIX.length());
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException(key + " starts with '" + HASH_PREFIX + "' but is not followed by"
                        + " 64 hex digits (got " + hex.length() + " characters)");
            }
            return HexFormat.of().parseHex(hex.toLowerCase());
        }
        if (t.length() < MIN_PLAIN_LENGTH) {
            throw new IllegalArgumentException(key + " is " + t.length() + " characters long; a token must have at"
                    + " least " + MIN_PLAIN_LENGTH + " (e.g. `openssl rand -hex 32`), or be given as sha256:<hex>");
        }
        return sha256(t);
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
