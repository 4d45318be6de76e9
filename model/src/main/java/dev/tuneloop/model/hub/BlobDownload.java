package dev.tuneloop.model.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one blob into {@code blobs/{etag}.incomplete}, resuming with {@code Range} after a dropped connection
 * (also one left by an earlier run), checks its size and, for LFS files, its sha256, and only then renames it to
 * {@code blobs/{etag}}. An {@code .incomplete} file is never taken for a complete one.
 */
final class BlobDownload {
    private static final Logger log = LoggerFactory.getLogger(BlobDownload.class);
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final int BUFFER = 1 << 16;

    /** The connection broke while the body was coming in: worth another attempt from where it stopped. */
    private static final class Interrupted extends IOException {
        Interrupted(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HubHttp http;
    private final Duration retryDelay;

    BlobDownload(HubHttp http, Duration retryDelay) {
        this.http = http;
        this.retryDelay = retryDelay;
    }

    /**
     * @param what  names the file in messages, e.g. {@code model.safetensors of owner/name@commit}
     * @param meta  where to GET it, its etag and expected size
     */
    void fetch(String what, FileMetadata meta, Path incomplete, Path blob, Progress progress) throws IOException {
        Files.createDirectories(blob.getParent());
        long expected = meta.size();
        IOException last = null;
        boolean complete = false;
        for (int attempt = 1; attempt <= HubHttp.ATTEMPTS; attempt++) {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            if (expected >= 0 && have > expected) {
                log.warn("{} is {} bytes, more than the {} expected: starting over", incomplete, have, expected);
                Files.delete(incomplete);
                have = 0;
            }
            if (expected >= 0 && have == expected && Files.exists(incomplete)) {
                complete = true; // e.g. a run that stopped between the last byte and the rename
                break;
            }
            try {
                transfer(what, meta.downloadUrl(), incomplete, have, expected, progress);
                long now = Files.size(incomplete);
                if (expected < 0 || now == expected) {
                    complete = true; // the body ended cleanly (the only sign of completion when the size is unknown)
                    break;
                }
                last = new IOException("the body ended at byte " + now + " of " + expected);
            } catch (Interrupted | HubHttp.Unreachable e) {
                last = e;
            }
            if (attempt < HubHttp.ATTEMPTS) {
                log.warn("download of {} interrupted ({}); resuming, attempt {}/{}", what, last.getMessage(),
                        attempt + 1, HubHttp.ATTEMPTS);
                HubHttp.pause(retryDelay.multipliedBy(1L << (attempt - 1)));
            }
        }
        long size = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        if (!complete) {
            throw new IOException("download of " + what + " from " + HubHttp.display(meta.downloadUrl())
                    + " stopped at " + size + " of " + (expected >= 0 ? expected : "?") + " bytes after "
                    + HubHttp.ATTEMPTS + " attempts ("
                    + (last == null ? "no error" : last.getMessage()) + "); " + incomplete
                    + " is kept and the next run resumes from there", last);
        }
        if (meta.etagIsSha256()) {
            String actual = sha256(incomplete);
            if (!actual.equals(meta.etag())) {
                Files.delete(incomplete);
                throw new IOException("download of " + what + " is corrupt: sha256 " + actual + " but the hub says "
                        + meta.etag() + " (" + size + " bytes from " + HubHttp.display(meta.downloadUrl())
                        + "); deleted it, run again to retry");
            }
        }
        HubCache.move(incomplete, blob);
    }

    private void transfer(String what, URI url, Path incomplete, long have, long expected, Progress progress)
            throws IOException {
        HttpResponse<InputStream> response = http.get(url, have);
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            boolean append;
            if (status == 206) {
                long start = rangeStart(response);
                if (start != have) {
                    Files.deleteIfExists(incomplete);
                    throw new Interrupted("asked for bytes from " + have + ", the server sent from " + start, null);
                }
                append = true;
            } else if (status == 200) {
                if (have > 0) {
                    log.info("{} ignored the Range request: downloading {} again from the start",
                            HubHttp.display(response.uri()), what);
                }
                append = false;
            } else if (status == 416) {
                Files.deleteIfExists(incomplete);
                throw new Interrupted("the server refused the range from byte " + have + " (HTTP 416)", null);
            } else if (status == 401 || status == 403) {
                throw new IOException("access denied downloading " + what + " from "
                        + HubHttp.display(response.uri()) + " (HTTP " + status + "): set HF_TOKEN to a token with "
                        + "read access");
            } else {
                throw new IOException("GET " + HubHttp.display(response.uri()) + " for " + what + " answered HTTP "
                        + status);
            }
            long start = append ? have : 0;
            progress.start(what, expected, start);
            copy(body, incomplete, append, start, progress);
            progress.finish();
        }
    }

    private static void copy(InputStream body, Path incomplete, boolean append, long start, Progress progress)
            throws IOException {
        StandardOpenOption mode = append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        long received = 0;
        boolean complete = false;
        try (FileChannel out = openForWrite(incomplete, mode)) {
            byte[] buffer = new byte[BUFFER];
            while (true) {
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    throw new Interrupted("connection lost after " + (start + received) + " bytes: "
                            + HubHttp.describe(e), e);
                }
                if (n < 0) {
                    break;
                }
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                try {
                    while (chunk.hasRemaining()) {
                        out.write(chunk);
                    }
                } catch (IOException e) {
                    throw new IOException("cannot write " + incomplete + " at byte " + (start + received) + ": "
                            + HubHttp.describe(e) + " (disk full?); the partial file is kept for the next run to "
                            + "resume", e);
                }
                received += n;
                progress.advance(n);
            }
            out.force(false);
            complete = true;
        } finally {
            if (!complete) {
                progress.fail();
            }
        }
    }

    private static FileChannel openForWrite(Path file, StandardOpenOption mode) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode);
        } catch (IOException e) {
            throw new IOException("cannot open " + file + " for writing: " + HubHttp.describe(e), e);
        }
    }

    private static long rangeStart(HttpResponse<?> response) throws IOException {
        String value = response.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(value.strip());
        if (!m.matches()) {
            throw new Interrupted("HTTP 206 from " + HubHttp.display(response.uri()) + " with Content-Range '"
                    + value + "'", null);
        }
        return Long.parseLong(m.group(1));
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
