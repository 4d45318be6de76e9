package dev.tuneloop.security;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * Builds {@link ApiTokens} and checks them at start-up: with authentication on (the default) and no token the
 * service refuses to start, naming the keys to set.
 */
@Singleton
public class AuthSetup {
    private static final Logger LOG = Logger.getLogger(AuthSetup.class);

    static final String NO_TOKENS = "authentication is on (tuneloop.auth.enabled=true, the default) but no token is"
            + " configured: set tuneloop.auth.tokens.operator, tuneloop.auth.tokens.viewer and/or"
            + " tuneloop.auth.tokens.client (env TUNELOOP_AUTH_TOKENS_OPERATOR, TUNELOOP_AUTH_TOKENS_VIEWER,"
            + " TUNELOOP_AUTH_TOKENS_CLIENT, e.g. from a Kubernetes Secret), or tuneloop.auth.enabled=false for"
            + " local use only";

    @Produces
    @Singleton
    ApiTokens tokens(AuthConfig config) {
        ApiTokens tokens = ApiTokens.from(config.tokens());
        if (config.enabled() && tokens.isEmpty()) {
            throw new IllegalStateException(NO_TOKENS);
        }
        return tokens;
    }

    void check(@Observes StartupEvent event, AuthConfig config, ApiTokens tokens) {
        if (config.enabled()) {
            LOG.infof("authentication on: bearer tokens per role %s", tokens.counts());
        } else {
            LOG.warn("authentication OFF (tuneloop.auth.enabled=false): every caller holds every role; local use only");
        }
    }
}
