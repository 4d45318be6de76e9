package dev.tuneloop.orchestrator.auth;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.orchestrator.BrokerAndStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.Launch;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The orchestrator with authentication on (the default outside tests) and no token does not start. */
@QuarkusMainTest
@TestProfile(StartupRefusalTest.NoTokens.class)
@QuarkusTestResource(BrokerAndStore.class)
class StartupRefusalTest {
    public static class NoTokens implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tuneloop.auth.enabled", "true");
        }
    }

    @Test
    @Launch(value = {}, exitCode = 1)
    void refusesToStartNamingTheKeysToSet(LaunchResult result) {
        String output = result.getOutput() + "\n" + result.getErrorOutput();
        assertTrue(output.contains("authentication is on (tuneloop.auth.enabled=true, the default) but no token is"
                + " configured: set tuneloop.auth.tokens.operator"), output);
        assertTrue(output.contains("TUNELOOP_AUTH_TOKENS_OPERATOR"), output);
    }
}
