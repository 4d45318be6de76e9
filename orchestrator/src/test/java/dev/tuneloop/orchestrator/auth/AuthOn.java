package dev.tuneloop.orchestrator.auth;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * A secured deployment: authentication on, one token per role (the viewer's configured by its sha256 only), and one
 * https host on the data allow-list.
 */
public class AuthOn implements QuarkusTestProfile {
    public static final String OPERATOR = "operator-token-5f2b7c1e9a";
    public static final String VIEWER = "viewer-token-0d4e8a6b3c";
    public static final String CLIENT = "client-token-7e1c2f9d4b";
    public static final String ALLOWED_HOST = "data.example.org";

    /** Everything the service logs, DEBUG included for tuneloop and Quarkus security, for {@link SecretScanTest}. */
    public static final Path LOG = Path.of("target", "logs", "orchestrator-" + ProcessHandle.current().pid() + ".log")
            .toAbsolutePath();

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("tuneloop.auth.enabled", "true",
                "quarkus.log.file.enabled", "true",
                "quarkus.log.file.path", LOG.toString(),
                "quarkus.log.category.\"dev.tuneloop\".level", "DEBUG",
                "quarkus.log.category.\"io.quarkus.security\".level", "DEBUG",
                "quarkus.log.category.\"io.quarkus.vertx.http.runtime.security\".level", "DEBUG",
                "tuneloop.auth.tokens.operator", OPERATOR,
                "tuneloop.auth.tokens.viewer", "sha256:" + sha256(VIEWER),
                "tuneloop.auth.tokens.client", CLIENT,
                "tuneloop.storage.allowed-https-hosts", ALLOWED_HOST);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
