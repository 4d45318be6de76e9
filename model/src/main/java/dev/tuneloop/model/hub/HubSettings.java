package dev.tuneloop.model.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Where and how to reach the Hugging Face hub, read from the same variables as Python's {@code huggingface_hub}.
 *
 * @param endpoint {@code HF_ENDPOINT}, default {@code https://huggingface.co} (no trailing slash)
 * @param token    {@code HF_TOKEN}, else the file {@code HF_TOKEN_PATH} / {@code $HF_HOME/token}; null when none
 * @param cacheDir {@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
 *                 else {@code ~/.cache/huggingface/hub}
 * @param offline  {@code HF_HUB_OFFLINE} is 1/true/yes/on: never touch the network, use the cache only
 */
public record HubSettings(URI endpoint, String token, Path cacheDir, boolean offline) {
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    public HubSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheDir, "cacheDir");
        endpoint = checkEndpoint(endpoint.toString());
        if (token != null && token.isBlank()) {
            token = null;
        }
        cacheDir = cacheDir.toAbsolutePath().normalize();
    }

    /** Environment variables; a system property of the same name (e.g. {@code -DHF_HUB_CACHE=...}) wins. */
    public static HubSettings fromEnvironment() {
        return fromLookup(name -> {
            String property = System.getProperty(name);
            return property != null ? property : System.getenv(name);
        });
    }

    /** Same as {@link #fromEnvironment()} with the variables read from {@code lookup} (null = unset). */
    static HubSettings fromLookup(UnaryOperator<String> lookup) {
        String endpointValue = nonBlank(lookup.apply("HF_ENDPOINT"));
        URI endpoint = endpointValue == null ? DEFAULT_ENDPOINT : checkEndpoint(endpointValue);

        Path home = Path.of(System.getProperty("user.home"));
        String xdg = nonBlank(lookup.apply("XDG_CACHE_HOME"));
        Path hfHome = pathOf(lookup.apply("HF_HOME"), home);
        if (hfHome == null) {
            hfHome = (xdg != null ? expandHome(xdg, home) : home.resolve(".cache")).resolve("huggingface");
        }
        Path cache = pathOf(lookup.apply("HF_HUB_CACHE"), home);
        if (cache == null) {
            cache = pathOf(lookup.apply("HUGGINGFACE_HUB_CACHE"), home);
        }
        if (cache == null) {
            cache = hfHome.resolve("hub");
        }

        String token = nonBlank(lookup.apply("HF_TOKEN"));
        if (token == null) {
            Path tokenPath = pathOf(lookup.apply("HF_TOKEN_PATH"), home);
            token = readTokenFile(tokenPath != null ? tokenPath : hfHome.resolve("token"));
        }
        return new HubSettings(endpoint, token, cache, isTrue(lookup.apply("HF_HUB_OFFLINE")));
    }

    public HubSettings withOffline(boolean offline) {
        return new HubSettings(endpoint, token, cacheDir, offline);
    }

    public HubSettings withCacheDir(Path cacheDir) {
        return new HubSettings(endpoint, token, cacheDir, offline);
    }

    /** The token never appears: only whether one is set. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", token=" + (token == null ? "<none>" : "<set, masked>")
                + ", cacheDir=" + cacheDir + ", offline=" + offline + "]";
    }

    private static URI checkEndpoint(String value) {
        String trimmed = value.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("HF_ENDPOINT '" + value + "' is not a URL: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                || uri.getQuery() != null || uri.getFragment() != null) {
            throw new IllegalArgumentException(
                    "HF_ENDPOINT '" + value + "' must be an http(s) URL with a host, like https://huggingface.co");
        }
        return uri;
    }

    private static String readTokenFile(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return nonBlank(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the Hugging Face token file " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean isTrue(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip().toUpperCase(Locale.ROOT);
        return v.equals("1") || v.equals("ON") || v.equals("YES") || v.equals("TRUE");
    }

    private static Path pathOf(String value, Path home) {
        String v = nonBlank(value);
        return v == null ? null : expandHome(v, home);
    }

    private static Path expandHome(String value, Path home) {
        if (value.equals("~")) {
            return home;
        }
        if (value.startsWith("~/")) {
            return home.resolve(value.substring(2));
        }
        return Path.of(value);
    }

    private static String nonBlank(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
