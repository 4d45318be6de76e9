package dev.tuneloop.model.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP to the hub and its CDN. Redirects are followed by hand so that the token ({@code Authorization: Bearer})
 * only ever goes to the hub's own origin (scheme, host and port of {@code HF_ENDPOINT}), never to a CDN.
 * Answers 5xx are retried with exponential backoff; any other status is returned for the caller to explain.
 */
final class HubHttp {
    static final int ATTEMPTS = 3;
    private static final int MAX_REDIRECTS = 10;
    private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration GET_HEADERS_TIMEOUT = Duration.ofSeconds(60);
    private static final String USER_AGENT = "tuneloop/0.1; java/" + Runtime.version().feature();
    private static final Logger log = LoggerFactory.getLogger(HubHttp.class);

    /** The hub could not be reached at all (refused, unresolved, timed out): no HTTP answer came back. */
    static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HubSettings settings;
    private final Duration retryDelay;
    private final HttpClient client;

    HubHttp(HubSettings settings, Duration retryDelay) {
        this.settings = Objects.requireNonNull(settings);
        this.retryDelay = Objects.requireNonNull(retryDelay);
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    /**
     * HEAD, following redirects within the hub's origin (a renamed repository) but not to another host (the CDN):
     * the answer returned is then the 3xx itself, whose headers carry the file's metadata and whose
     * {@code Location} is where to GET it.
     */
    HttpResponse<Void> head(URI url) throws IOException {
        URI current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<Void> response = sendWithRetry(request(current, "HEAD", -1, HEAD_TIMEOUT),
                    HttpResponse.BodyHandlers.discarding());
            if (!isRedirect(response.statusCode())) {
                return response;
            }
            URI target = location(response);
            if (!sameOrigin(target, settings.endpoint())) {
                return response;
            }
            current = target;
        }
        throw new IOException("too many redirects (> " + MAX_REDIRECTS + ") from HEAD " + display(url));
    }

    /** GET from byte {@code from} on (a Range request when > 0), following every redirect. Caller closes the body. */
    HttpResponse<InputStream> get(URI url, long from) throws IOException {
        URI current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<InputStream> response = sendWithRetry(request(current, "GET", from, GET_HEADERS_TIMEOUT),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (!isRedirect(response.statusCode())) {
                return response;
            }
            response.body().close();
            current = location(response);
        }
        throw new IOException("too many redirects (> " + MAX_REDIRECTS + ") from GET " + display(url));
    }

    private HttpRequest request(URI url, String method, long rangeFrom, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity")
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (rangeFrom > 0) {
            b.header("Range", "bytes=" + rangeFrom + "-");
        }
        if (settings.token() != null && sameOrigin(url, settings.endpoint())) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return b.build();
    }

    private <T> HttpResponse<T> sendWithRetry(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            HttpResponse<T> response;
            try {
                response = client.send(request, handler);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(
                        "interrupted during " + request.method() + " " + display(request.uri()));
            } catch (IOException e) {
                throw new Unreachable(request.method() + " " + display(request.uri()) + " failed: " + describe(e), e);
            }
            int status = response.statusCode();
            if (status < 500) {
                return response;
            }
            if (response.body() instanceof InputStream body) {
                body.close();
            }
            if (attempt >= ATTEMPTS) {
                throw new IOException(request.method() + " " + display(request.uri()) + " answered HTTP " + status
                        + " " + attempt + " times in a row; the hub may be down, try again later");
            }
            Duration wait = retryDelay.multipliedBy(1L << (attempt - 1));
            log.warn("{} {} answered HTTP {}; retry {}/{} in {} ms", request.method(), display(request.uri()),
                    status, attempt, ATTEMPTS - 1, wait.toMillis());
            pause(wait);
        }
    }

    static void pause(Duration wait) throws InterruptedIOException {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI location(HttpResponse<?> response) throws IOException {
        String value = response.headers().firstValue("Location").orElseThrow(() -> new IOException(
                "HTTP " + response.statusCode() + " from " + display(response.uri()) + " has no Location header"));
        try {
            return response.uri().resolve(value);
        } catch (IllegalArgumentException e) {
            throw new IOException("HTTP " + response.statusCode() + " from " + display(response.uri())
                    + " redirects to an invalid Location '" + value + "': " + e.getMessage(), e);
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return "https".equals(u.getScheme().toLowerCase(Locale.ROOT)) ? 443 : 80;
    }

    /** A URL fit for messages and logs: without its query, which on a CDN carries a signature. */
    static String display(URI url) {
        String s = url.getScheme() + "://" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath());
        return url.getRawQuery() == null ? s : s + "?…";
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        String name = e.getClass().getSimpleName();
        if (message != null && !message.isBlank()) {
            return name + ": " + message;
        }
        Throwable cause = e.getCause();
        if (cause == null) {
            return name;
        }
        return cause.getClass() == e.getClass() ? describe(cause) : name + " (" + describe(cause) + ")";
    }
}
