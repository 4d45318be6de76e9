package dev.tuneloop.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code tuneloop.auth.*} keys as SmallRye reads them from properties and env variables, and the start-up rule. */
class AuthSetupTest {
    private static AuthConfig config(Map<String, String> properties, Map<String, String> env) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(AuthConfig.class)
                .withSources(new PropertiesConfigSource(properties, "test", 250))
                .withSources(new EnvConfigSource(env, 300))
                .build();
        return config.getConfigMapping(AuthConfig.class);
    }

    @Test
    void authIsOnByDefaultAndWithoutTokensTheServiceRefusesToStartNamingTheKeys() {
        AuthConfig none = config(Map.of(), Map.of());
        assertTrue(none.enabled());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new AuthSetup().tokens(none));
        assertEquals(AuthSetup.NO_TOKENS, e.getMessage());
        assertTrue(e.getMessage().contains("TUNELOOP_AUTH_TOKENS_OPERATOR"), e.getMessage());
        assertTrue(e.getMessage().contains("tuneloop.auth.enabled=false"), e.getMessage());
    }

    @Test
    void offOnlyByExplicitConfigurationThenNoTokenIsNeeded() {
        AuthConfig off = config(Map.of("tuneloop.auth.enabled", "false"), Map.of());
        assertFalse(off.enabled());
        assertTrue(new AuthSetup().tokens(off).isEmpty());
    }

    @Test
    void tokensComeFromEnvVariablesCommaSeparatedForRotation() {
        AuthConfig fromEnv = config(Map.of(), Map.of(
                "TUNELOOP_AUTH_TOKENS_OPERATOR", "operator-old-0123456789,operator-new-0123456789",
                "TUNELOOP_AUTH_TOKENS_CLIENT", "client-token-0123456789"));
        ApiTokens tokens = new AuthSetup().tokens(fromEnv);
        assertEquals(Optional.of(Roles.OPERATOR), tokens.roleOf("operator-old-0123456789"));
        assertEquals(Optional.of(Roles.OPERATOR), tokens.roleOf("operator-new-0123456789"));
        assertEquals(Optional.of(Roles.CLIENT), tokens.roleOf("client-token-0123456789"));
        assertEquals(Map.of("operator", 2L, "viewer", 0L, "client", 1L), tokens.counts());
    }
}
