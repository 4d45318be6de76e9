package dev.tuneloop.security;

import jakarta.annotation.security.RolesAllowed;
import java.lang.reflect.Method;
import java.util.Arrays;

/** The words of the 401/403 answers, the same in both services (each wraps them in its own error body). */
public final class AuthErrors {
    public static final String CHALLENGE_HEADER = "WWW-Authenticate";
    public static final String CHALLENGE = "Bearer";
    public static final String MISSING = "authentication required: send 'Authorization: Bearer <token>'";
    public static final String INVALID = "the bearer token is not valid";

    private AuthErrors() {}

    /** Names the roles the endpoint accepts, never the caller's token. */
    public static String forbidden(Method endpoint) {
        RolesAllowed allowed = endpoint == null ? null : endpoint.getAnnotation(RolesAllowed.class);
        String roles = allowed == null ? "another role" : "role " + String.join(" or ", Arrays.asList(allowed.value()));
        return "the token's role may not call this endpoint; it needs " + roles
                + " (an operator token may call everything)";
    }
}
