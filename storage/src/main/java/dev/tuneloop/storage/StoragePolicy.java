package dev.tuneloop.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Which locations a service may read or write: keys under the allowed prefixes of one bucket, and {@code https://}
 * URLs on allow-listed hosts only (none by default).
 *
 * @param bucket the only bucket
 * @param allowedPrefixes key prefixes, each ending with '/', e.g. {@code datasets/}, {@code runs/}
 * @param httpsHosts hosts {@code https://} URLs may point at: {@code host} (port 443) or {@code host:port}
 */
public record StoragePolicy(String bucket, List<String> allowedPrefixes, List<String> httpsHosts) {
    /** The services' configuration key of {@link #httpsHosts()} (env {@code TUNELOOP_STORAGE_ALLOWED_HTTPS_HOSTS}). */
    public static final String HTTPS_HOSTS_KEY = "tuneloop.storage.allowed-https-hosts";

    public StoragePolicy {
        ObjectUri.requireValidBucket(bucket, "StoragePolicy.bucket " + bucket);
        if (allowedPrefixes == null || allowedPrefixes.isEmpty()) {
            throw new IllegalArgumentException("StoragePolicy.allowedPrefixes must name at least one prefix");
        }
        for (String prefix : allowedPrefixes) {
            if (prefix == null || !prefix.endsWith("/")) {
                throw new IllegalArgumentException("StoragePolicy.allowedPrefixes: '" + prefix
                        + "' must end with '/' (otherwise 'runs' would also allow 'runs-other/...')");
            }
            new ObjectUri(bucket, prefix); // same key rules: no leading '/', no '..', no control characters
        }
        allowedPrefixes = List.copyOf(allowedPrefixes);
        httpsHosts = httpsHosts == null ? List.of() : httpsHosts.stream().map(StoragePolicy::hostEntry).toList();
    }

    /** A policy with no https hosts. */
    public static StoragePolicy of(String bucket, String... allowedPrefixes) {
        return new StoragePolicy(bucket, List.of(allowedPrefixes), List.of());
    }

    /** Parses {@code uri} and checks bucket and prefix; throws naming the URI and the rule it breaks. */
    public ObjectUri requireAllowed(String uri) {
        return requireAllowed(ObjectUri.parse(uri));
    }

    public ObjectUri requireAllowed(ObjectUri uri) {
        if (!uri.bucket().equals(bucket)) {
            throw new PolicyViolationException(uri.toString(), "the bucket must be '" + bucket + "'");
        }
        if (allowedPrefixes.stream().noneMatch(uri.key()::startsWith)) {
            throw new PolicyViolationException(uri.toString(), "the key must start with one of " + allowedPrefixes);
        }
        return uri;
    }

    /** Checks an {@code https://} URL against the host allow-list. */
    public URI requireAllowedHttps(String url) {
        URI parsed;
        try {
            parsed = new URI(url);
        } catch (URISyntaxException | NullPointerException e) {
            throw new PolicyViolationException(String.valueOf(url), "not a valid URL: " + e.getMessage());
        }
        if (!"https".equalsIgnoreCase(parsed.getScheme())) {
            throw new PolicyViolationException(url, "only https:// URLs are allowed, got scheme " + parsed.getScheme());
        }
        if (parsed.getRawUserInfo() != null) {
            // the message names the URL without the credentials: they must not reach logs or error bodies
            throw new PolicyViolationException(url.replace(parsed.getRawUserInfo() + "@", "****@"),
                    "credentials in the URL are not allowed");
        }
        if (parsed.getHost() == null) {
            throw new PolicyViolationException(url, "the URL has no host");
        }
        String path = parsed.getPath() == null ? "" : parsed.getPath();
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                throw new PolicyViolationException(url, "the path must not contain a '..' segment (path traversal)");
            }
        }
        String host = parsed.getHost().toLowerCase(Locale.ROOT);
        String entry = parsed.getPort() < 0 || parsed.getPort() == 443 ? host : host + ":" + parsed.getPort();
        if (!httpsHosts.contains(entry)) {
            throw new PolicyViolationException(url, httpsHosts.isEmpty()
                    ? "host '" + entry + "' is not allowed: no https host is (the allow-list "
                            + HTTPS_HOSTS_KEY + " is empty)"
                    : "host '" + entry + "' is not in the https allow-list " + HTTPS_HOSTS_KEY + "=" + httpsHosts);
        }
        return parsed;
    }

    private static String hostEntry(String entry) {
        if (entry == null || !entry.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
            throw new IllegalArgumentException(
                    "StoragePolicy.httpsHosts: '" + entry + "' must be a host name, optionally with ':port'");
        }
        String lower = entry.toLowerCase(Locale.ROOT);
        return lower.endsWith(":443") ? lower.substring(0, lower.length() - 4) : lower;
    }
}
