package dev.tuneloop.model.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback stand-in for the Hugging Face hub and its CDN, speaking the hub's protocol: regular files answer
 * {@code /resolve/} with a 307 to {@code /api/resolve-cache/...} on the same host (as the hub does), LFS files with
 * a 302 to a second server (the "CDN", another port) carrying {@code X-Linked-Etag}/{@code X-Linked-Size}.
 * Every request to either server is recorded.
 */
final class FakeHub implements AutoCloseable {
    static final String REPO = "tiny/qwen2";
    static final String COMMIT = "3c1b2a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

    record Request(String server, String method, String path, String authorization, String range) {}

    record Served(byte[] bytes, boolean lfs) {
        String etag() {
            return lfs ? sha256(bytes) : gitBlobSha1(bytes);
        }
    }

    final Map<String, Served> files = new LinkedHashMap<>();
    final List<Request> requests = new ArrayList<>();
    /** When set, the hub answers 401 to requests without {@code Authorization: Bearer <token>}. */
    volatile String requiredToken;
    /** The hub answers this many HEADs with 503 before answering normally (-1: always 503). */
    final AtomicInteger headFailures = new AtomicInteger();
    /** The CDN's next {@code cutGets} GETs stop after {@code cutAfterBytes} bytes and drop the connection. */
    final AtomicInteger cutGets = new AtomicInteger();
    volatile int cutAfterBytes;
    volatile boolean corruptBody;
    volatile boolean ignoreRange;

    private final HttpServer hub;
    private final HttpServer cdn;

    FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    URI cdnBase() {
        return URI.create("http://127.0.0.1:" + cdn.getAddress().getPort());
    }

    FakeHub serve(String name, byte[] bytes, boolean lfs) {
        files.put(name, new Served(bytes, lfs));
        return this;
    }

    synchronized List<Request> requests(String server, String method) {
        return requests.stream().filter(r -> r.server.equals(server) && r.method.equals(method)).toList();
    }

    synchronized long count(String method) {
        return requests.stream().filter(r -> r.method.equals(method)).count();
    }

    synchronized void clearRequests() {
        requests.clear();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }

    private synchronized void record(String server, HttpExchange ex) {
        requests.add(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
    }

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            boolean head = ex.getRequestMethod().equals("HEAD");
            if (head && headFailures.get() != 0) {
                headFailures.decrementAndGet();
                reply(ex, 503, new byte[0]);
                return;
            }
            String authorization = ex.getRequestHeaders().getFirst("Authorization");
            if (requiredToken != null && !("Bearer " + requiredToken).equals(authorization)) {
                ex.getResponseHeaders().set("X-Error-Message", "Invalid credentials in Authorization header");
                reply(ex, 401, new byte[0]);
                return;
            }
            String path = ex.getRequestURI().getRawPath();
            String[] p = path.split("/", 6);
            // /{owner}/{name}/resolve/{revision}/{file}  or  /api/resolve-cache/models/{owner}/{name}/{commit}/{file}
            boolean cached = path.startsWith("/api/resolve-cache/models/");
            String[] q = cached ? path.substring("/api/resolve-cache/models/".length()).split("/", 4) : null;
            if (!cached && (p.length < 6 || !p[3].equals("resolve"))) {
                reply(ex, 400, new byte[0]);
                return;
            }
            String repo = cached ? q[0] + "/" + q[1] : p[1] + "/" + p[2];
            String revision = cached ? q[2] : p[4];
            String file = cached ? q[3] : p[5];
            if (!repo.equals(REPO)) {
                ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
                reply(ex, 404, new byte[0]);
                return;
            }
            if (!revision.equals("main") && !revision.equals(COMMIT)) {
                ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
                reply(ex, 404, new byte[0]);
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", COMMIT);
            Served served = files.get(file);
            if (served == null) {
                ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
                reply(ex, 404, new byte[0]);
                return;
            }
            if (served.lfs) {
                ex.getResponseHeaders().set("ETag", "\"" + served.etag() + "\"");
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + served.etag() + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", String.valueOf(served.bytes.length));
                ex.getResponseHeaders().set("Location",
                        cdnBase() + "/repos/ab/cd/" + served.etag() + "?X-Amz-Signature=secret");
                reply(ex, 302, "Found. Redirecting".getBytes(StandardCharsets.UTF_8));
            } else if (!cached) {
                ex.getResponseHeaders().set("Location",
                        "/api/resolve-cache/models/" + REPO + "/" + COMMIT + "/" + file);
                reply(ex, 307, new byte[0]);
            } else {
                ex.getResponseHeaders().set("ETag", "W/\"" + served.etag() + "\"");
                reply(ex, 200, served.bytes);
            }
        }
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            record("cdn", ex);
            String path = ex.getRequestURI().getRawPath();
            Served served = files.values().stream()
                    .filter(s -> s.lfs && path.endsWith("/" + s.etag())).findFirst().orElse(null);
            if (served == null || !ex.getRequestMethod().equals("GET")) {
                reply(ex, 404, new byte[0]);
                return;
            }
            byte[] body = served.bytes.clone();
            if (corruptBody) {
                body[body.length / 2] ^= 0x55;
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            int from = 0;
            if (range != null && !ignoreRange) {
                from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                ex.getResponseHeaders().set("Content-Range",
                        "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
            }
            byte[] part = Arrays.copyOfRange(body, from, body.length);
            if (cutGets.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                int cut = Math.min(cutAfterBytes, part.length);
                ex.sendResponseHeaders(from > 0 ? 206 : 200, part.length);
                OutputStream out = ex.getResponseBody();
                out.write(part, 0, cut);
                out.flush();
                throw new IOException("fake CDN drops the connection after " + cut + " bytes");
            }
            reply(ex, from > 0 ? 206 : 200, part);
        }
    }

    private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        ex.getResponseBody().write(body);
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest("SHA-256", bytes));
    }

    /** The sha1 git gives a blob: the hub's ETag of a regular (non-LFS) file. */
    static String gitBlobSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(header, header.length + bytes.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return HexFormat.of().formatHex(digest("SHA-1", all));
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
