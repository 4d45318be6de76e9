package dev.tuneloop.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiTokensTest {
    private static final String OPERATOR = "op-0123456789abcdef";
    private static final String CLIENT = "client-0123456789abcdef";

    private static ApiTokens tokens(List<String> operator, List<String> client) {
        Map<String, List<String>> byRole = new LinkedHashMap<>();
        byRole.put(Roles.OPERATOR, operator);
        byRole.put(Roles.CLIENT, client);
        return new ApiTokens(byRole, "tuneloop.auth.tokens.");
    }

    @Test
    void plainAndHashedTokensFindTheirRole() {
        String hashed = "sha256:" + HexFormat.of().formatHex(ApiTokens.sha256(CLIENT)).toUpperCase();
        ApiTokens t = tokens(List.of(OPERATOR), List.of(hashed));
        assertEquals(Optional.of(Roles.OPERATOR), t.roleOf(OPERATOR));
        assertEquals(Optional.of(Roles.CLIENT), t.roleOf(CLIENT));
        assertEquals(Optional.empty(), t.roleOf(OPERATOR + "x"));
        assertEquals(Optional.empty(), t.roleOf(""));
        assertEquals(Optional.empty(), t.roleOf(hashed), "the digest itself is not a token");
        assertEquals(Map.of("operator", 1L, "viewer", 0L, "client", 1L), t.counts());
        assertFalse(t.isEmpty());
        assertTrue(tokens(List.of(), List.of()).isEmpty());
    }

    @Test
    void operatorGrantsEveryRoleOthersOnlyTheirOwn() {
        assertEquals(java.util.Set.of("operator", "viewer", "client"), Roles.granted(Roles.OPERATOR));
        assertEquals(java.util.Set.of("client"), Roles.granted(Roles.CLIENT));
    }

    @Test
    void shortOrMalformedTokensAreRefusedNamingTheKeyNotTheValue() {
        IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
                () -> tokens(List.of(OPERATOR), List.of("short-secret")));
        assertEquals("tuneloop.auth.tokens.client[0] is 12 characters long; a token must have at least 16"
                + " (e.g. `openssl rand -hex 32`), or be given as sha256:<hex>", shortOne.getMessage());
        IllegalArgumentException badHash = assertThrows(IllegalArgumentException.class,
                () -> tokens(List.of(OPERATOR, "sha256:abc-not-hex"), List.of()));
        assertTrue(badHash.getMessage().startsWith("tuneloop.auth.tokens.operator[1] starts with 'sha256:'"),
                badHash.getMessage());
        assertFalse(badHash.getMessage().contains("abc-not-hex"), badHash.getMessage());
    }
}
