package dev.tuneloop.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Downloads a data location the {@link StoragePolicy} allows, and nothing else: {@code s3://} keys in the bucket's
 * allowed prefixes through the {@link ObjectStore}, {@code https://} URLs on the host allow-list through
 * {@link HttpsFetcher}. The workers use it; the CLI, run on the user's own machine, does not.
 */
public final class DataFetcher {
    /** @param file where the content was written; @param sha256 of the content */
    public record Downloaded(Path file, String sha256) {}

    private final ObjectStore store;
    private final StoragePolicy policy;
    private final HttpsFetcher https;

    public DataFetcher(ObjectStore store, StoragePolicy policy) {
        this(store, policy, new HttpsFetcher(policy));
    }

    public DataFetcher(ObjectStore store, StoragePolicy policy, HttpsFetcher https) {
        this.store = store;
        this.policy = policy;
        this.https = https;
    }

    /**
     * Downloads {@code location} into {@code dir} under its own file name.
     *
     * @param field the request field that named the location, for the message of a refusal
     * @param expectedSha256 the content's sha256 when known (verified before the file is kept), else {@code null}
     * @throws IllegalArgumentException naming the field, the location and the rule, if the policy refuses it
     */
    public Downloaded get(String field, String location, Path dir, String expectedSha256) throws IOException {
        try {
            if (location.startsWith(ObjectUri.SCHEME)) {
                ObjectUri uri = policy.requireAllowed(location);
                Path target = dir.resolve(uri.fileName());
                return new Downloaded(target, store.get(uri, target, expectedSha256).sha256());
            }
            Path target = dir.resolve(fileName(policy.requireAllowedHttps(location)));
            return new Downloaded(target, https.get(location, target, expectedSha256).sha256());
        } catch (PolicyViolationException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    /** The URL's last path segment, {@code data} when it has none (the extension tells JSON from JSON lines). */
    static String fileName(URI url) {
        String path = url.getPath();
        String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        return name.isEmpty() || name.equals(".") || name.equals("..") ? "data" : name;
    }
}
