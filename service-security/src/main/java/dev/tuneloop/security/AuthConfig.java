package dev.tuneloop.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/**
 * Who may call the service ({@code tuneloop.auth.*}). Each token is either the token itself (at least
 * {@value ApiTokens#MIN_PLAIN_LENGTH} characters) or {@code sha256:<64 hex digits>} of it; several tokens per role
 * (comma-separated) allow rotation. Env: {@code TUNELOOP_AUTH_TOKENS_OPERATOR}, {@code ..._VIEWER},
 * {@code ..._CLIENT}.
 */
@ConfigMapping(prefix = "tuneloop.auth")
public interface AuthConfig {
    /** false only for local use: then every caller has every role. With true, at least one token must be set. */
    @WithDefault("true")
    boolean enabled();

    Tokens tokens();

    interface Tokens {
        /** Submits, cancels and deletes runs, promotes adapters; has the viewer and client roles too. */
        Optional<List<String>> operator();

        /** Reads run state and promotions. */
        Optional<List<String>> viewer();

        /** Asks the inference service for answers. */
        Optional<List<String>> client();
    }
}
