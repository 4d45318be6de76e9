package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.storage.ObjectStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Promotions published before the service starts: it reads the topic to its end and is ready only once the newest
 * generation (not the last record) serves; a malformed record and another served model's promotion do not disturb it.
 * With a queue of one, a burst of requests gets 429 with Retry-After, never a failure; streamed chunks arrive as
 * they are generated.
 */
@QuarkusTest
@QuarkusTestResource(value = StartupAndOverloadTest.PromotedBeforeStart.class, restrictToAnnotatedClass = true)
class StartupAndOverloadTest {
    static final String BURST = "{\"model\": \"" + BrokerStoreAndModel.BASE + "\", \"max_tokens\": 32,"
            + " \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"Tell me about rivers.\"}]%s}";

    /** Generations 1 (A), 3 (B) and 2 (A) in that order, before the service starts. */
    public static class PromotedBeforeStart extends BrokerStoreAndModel {
        @Override
        protected void before(ObjectStore store) throws Exception {
            var a = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/run-a/ckpt-1/",
                    SERVED, 1, 60.0);
            var b = TestModels.upload(store, TestModels.get().adapterB(), "s3://tuneloop/runs/run-b/ckpt-3/",
                    SERVED, 3, 70.0);
            publish("run-a", a);
            publish("run-b", b);
            publishRaw(SERVED, "{\"not\": \"an event\"}".getBytes(StandardCharsets.UTF_8));
            publish("run-a", TestModels.promotion(SERVED, 2, a.files(), 65.0));
            publish("run-x", TestModels.promotion("another-model", 9, a.files(), 99.0));
        }

        @Override
        protected Map<String, String> overrides() {
            return Map.of("tuneloop.inference.batching.max-batch-size", "1",
                    "tuneloop.inference.batching.max-queue", "1",
                    "tuneloop.inference.batching.max-wait", "0ms",
                    "tuneloop.inference.batching.retry-after-seconds", "2");
        }
    }

    @TestHTTPResource("/v1/chat/completions")
    URL chatUrl;

    @Test
    void readyOnlyOnceTheNewestPromotionServes() {
        InferenceServiceTest.awaitReady();
        JsonPath status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals(3, status.getInt("adapter.generation"), status.prettify());
        assertEquals("run-b", status.getString("adapter.run"));
        assertEquals(1.0, status.getDouble("swaps"), "only the newest generation was loaded at start-up");
        assertTrue(status.getString("prompt").contains("question-only"), "B's saved prompt: " + status.prettify());
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("tuneloop_inference_promotions_malformed_total 1.0"), "malformed record counted");
    }

    @Test
    void aBurstBeyondTheQueueGets429WithRetryAfterAndNoFailure() throws Exception {
        InferenceServiceTest.awaitReady();
        HttpClient http = HttpClient.newHttpClient();
        int ok = 0;
        int refused = 0;
        for (int attempt = 0; attempt < 3 && refused == 0; attempt++) {
            List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                burst.add(http.sendAsync(post(String.format(BURST, "")), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : burst) {
                HttpResponse<String> response = f.get();
                if (response.statusCode() == 429) {
                    refused++;
                    assertEquals("2", response.headers().firstValue("Retry-After").orElse(null));
                    assertTrue(response.body().contains("max-queue 1"), response.body());
                } else {
                    assertEquals(200, response.statusCode(), response.body());
                    int tokens = JsonPath.from(response.body()).getInt("usage.completion_tokens");
                    assertTrue(tokens > 0 && tokens <= 32, response.body());
                    ok++;
                }
            }
        }
        System.out.printf("burst: %d answered, %d refused with 429%n", ok, refused);
        assertTrue(refused > 0, "12 requests at once on a queue of 1 must see a 429");
        assertTrue(ok >= 2, "the running and the queued request finish: " + ok);
    }

    @Test
    void streamedChunksArriveWhileGenerating() throws Exception {
        InferenceServiceTest.awaitReady();
        HttpResponse<java.util.stream.Stream<String>> response = HttpClient.newHttpClient().send(
                post(String.format(BURST, ", \"stream\": true")), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        List<Long> contentAt = new ArrayList<>();
        long[] doneAt = {0};
        response.body().forEach(line -> {
            if (line.equals("data: [DONE]")) {
                doneAt[0] = System.nanoTime();
            } else if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                contentAt.add(System.nanoTime());
            }
        });
        assertTrue(doneAt[0] > 0 && contentAt.size() > 3, "content chunks and [DONE] expected: " + contentAt.size());
        double spreadMs = (doneAt[0] - contentAt.get(0)) / 1e6;
        System.out.printf("stream: %d content chunks over %.1f ms before [DONE]%n", contentAt.size(), spreadMs);
        assertTrue(spreadMs > 5, "chunks arrived together (" + spreadMs + " ms from the first to [DONE]):"
                + " the response was buffered, not streamed");
    }

    private HttpRequest post(String body) throws Exception {
        URI uri = chatUrl.toURI();
        return HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
