package dev.tuneloop.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** JSON over HTTP to the services, Prometheus values, and waiting for a condition. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {}

    static JsonNode get(String url) throws IOException, InterruptedException {
        return json(CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString()), url);
    }

    static JsonNode post(String url, JsonNode body) throws IOException, InterruptedException {
        return json(CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString()), url);
    }

    private static JsonNode json(HttpResponse<String> response, String url) throws IOException {
        if (response.statusCode() / 100 != 2) {
            throw new IOException(response.request().method() + " " + url + ": HTTP " + response.statusCode() + " "
                    + response.body());
        }
        return JSON.readTree(response.body());
    }

    /**
     * The value of the Prometheus sample {@code name} whose labels contain {@code labels} (e.g.
     * {@code outcome="duplicate"}) at {@code baseUrl/q/metrics}; 0 when there is none yet.
     */
    static double metric(String baseUrl, String name, String labels) throws IOException, InterruptedException {
        String text = CLIENT.send(HttpRequest.newBuilder(URI.create(baseUrl + "/q/metrics"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                String labelPart = line.contains("{") ? line.substring(line.indexOf('{'), line.indexOf('}') + 1) : "";
                if (labels == null || labelPart.contains(labels)) {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return 0;
    }

    /** Calls {@code check} every {@code every} until it returns non-null; fails after {@code timeout}. */
    static <T> T await(Duration timeout, Duration every, Supplier<String> what, Callable<T> check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                T value = check.call();
                if (value != null) {
                    return value;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(every.toMillis());
        }
        throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what.get()
                + (last == null ? "" : " (last error: " + last + ")"));
    }
}
