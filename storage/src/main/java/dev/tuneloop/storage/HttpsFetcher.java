package dev.tuneloop.storage;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.time.Duration;

/**
 * Downloads {@code https://} data from hosts on the {@link StoragePolicy}'s allow-list (none by default). Redirects
 * are not followed (they could lead off the list); the file is hashed while written and, when a sha256 is known,
 * moved into place only if it matches.
 */
public final class HttpsFetcher {
    /** What was downloaded. */
    public record Fetched(URI url, String sha256, long size) {}

    private final StoragePolicy policy;
    private final HttpClient client;
    private final Duration timeout;

    public HttpsFetcher(StoragePolicy policy) {
        this(policy, HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build(), Duration.ofMinutes(30));
    }

    /** @param client must not follow redirects; tests pass one that trusts their own certificate */
    public HttpsFetcher(StoragePolicy policy, HttpClient client, Duration timeout) {
        if (client.followRedirects() != HttpClient.Redirect.NEVER) {
            throw new IllegalArgumentException("HttpsFetcher's client must not follow redirects, it follows "
                    + client.followRedirects());
        }
        this.policy = policy;
        this.client = client;
        this.timeout = timeout;
    }

    /**
     * Checks {@code url} against the allow-list, then downloads it to {@code target}.
     *
     * @param expectedSha256 the content's sha256 when known, else {@code null}
     * @throws PolicyViolationException if the URL is not allowed (nothing is fetched)
     */
    public Fetched get(String url, Path target, String expectedSha256) throws IOException {
        URI uri = policy.requireAllowedHttps(url);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path partial = Files.createTempFile(dir, target.getFileName().toString(), ".part");
        try {
            HttpResponse<InputStream> response;
            try {
                response = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("GET " + uri + " interrupted", e);
            }
            long size;
            String sha256;
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("GET " + uri + " answered HTTP " + response.statusCode()
                            + (response.statusCode() / 100 == 3 ? " (redirects are not followed)" : "")
                            + ", expected 200");
                }
                DigestInputStream digesting = Sha256.digesting(body);
                size = Files.copy(digesting, partial, StandardCopyOption.REPLACE_EXISTING);
                sha256 = Sha256.hex(digesting);
            }
            if (expectedSha256 != null && !expectedSha256.equals(sha256)) {
                throw new ChecksumMismatchException("get", uri.toString(), "content", expectedSha256, sha256);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Fetched(uri, sha256, size);
        } finally {
            Files.deleteIfExists(partial);
        }
    }
}
