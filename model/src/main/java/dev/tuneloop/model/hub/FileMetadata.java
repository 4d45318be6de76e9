package dev.tuneloop.model.hub;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the hub's answer to {@code HEAD .../resolve/{revision}/{file}} says about one file, read the way
 * huggingface_hub reads it.
 *
 * @param commit      {@code X-Repo-Commit}: the commit sha the revision points at
 * @param etag        {@code X-Linked-Etag} (an LFS file's sha256) else {@code ETag} (a git blob sha), unquoted
 * @param size        {@code X-Linked-Size} else {@code Content-Length}; -1 when the hub sent neither
 * @param downloadUrl the redirect target (a CDN) when the answer was a redirect, else the URL asked
 */
record FileMetadata(String commit, String etag, long size, URI downloadUrl) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9_+=-]{1,200}");

    static FileMetadata of(HttpResponse<?> response, String file) throws IOException {
        HttpHeaders h = response.headers();
        String where = "HEAD " + HubHttp.display(response.uri()) + " (HTTP " + response.statusCode() + ")";
        String commit = h.firstValue("X-Repo-Commit").map(String::strip).orElseThrow(() -> new IOException(
                where + " has no X-Repo-Commit header: is HF_ENDPOINT a Hugging Face hub?"));
        if (!HubId.isCommitSha(commit)) {
            throw new IOException(where + ": X-Repo-Commit '" + commit + "' is not a 40-hex commit sha");
        }
        String rawEtag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElseThrow(() ->
                new IOException(where + " has neither X-Linked-Etag nor ETag for " + file + ": cannot cache it"));
        String etag = normalizeEtag(rawEtag);
        if (!SAFE_ETAG.matcher(etag).matches()) {
            throw new IOException(where + ": etag '" + rawEtag + "' of " + file
                    + " is not a plain hash, refusing to use it as a cache file name");
        }
        boolean redirect = HubHttp.isRedirect(response.statusCode());
        Optional<Long> size = size(h, "X-Linked-Size", where);
        if (size.isEmpty() && !redirect) {
            size = size(h, "Content-Length", where); // a redirect's own Content-Length is not the file's
        }
        URI download = response.uri();
        if (redirect) {
            String location = h.firstValue("Location").orElseThrow(() -> new IOException(where + " has no Location"));
            download = response.uri().resolve(location);
        }
        return new FileMetadata(commit, etag, size.orElse(-1L), download);
    }

    /** {@code W/"abc"} and {@code "abc"} become {@code abc}. */
    static String normalizeEtag(String raw) {
        String e = raw.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    /** An LFS file's etag is the sha256 of its content, which the download must then match. */
    boolean etagIsSha256() {
        return SHA256.matcher(etag).matches();
    }

    private static Optional<Long> size(HttpHeaders h, String name, String where) throws IOException {
        Optional<String> v = h.firstValue(name);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            long n = Long.parseLong(v.get().strip());
            if (n < 0) {
                throw new NumberFormatException("negative");
            }
            return Optional.of(n);
        } catch (NumberFormatException e) {
            throw new IOException(where + ": " + name + " '" + v.get() + "' is not a byte count");
        }
    }
}
