package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.storage.ObjectStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Over HTTP, with real Kafka and S3: six clients keep asking for long greedy chats while adapter B is promoted after
 * A. No request fails; requests that ended before the promotion used A, requests that started before it and ended
 * after the swap used A (they were bound when accepted), requests that started after the swap used B; every answer,
 * batched under load, equals the same request answered alone; the batch-size metric shows batches larger than 1.
 * Then a promotion with a missing file is refused: B keeps serving, the refusal is in {@code GET /v1/adapter} and
 * the metrics.
 */
@QuarkusTest
@QuarkusTestResource(value = SwapUnderLoadTest.LongChats.class, restrictToAnnotatedClass = true)
class SwapUnderLoadTest {
    static final int CLIENTS = 6;
    static final int MAX_TOKENS = 160;
    static final String CHAT = "{\"model\": \"" + BrokerStoreAndModel.SERVED + "\", \"max_tokens\": " + MAX_TOKENS
            + ", \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}]}";
    static final String FINGERPRINT_A = "tuneloop-gen1-run-a-checkpoint-1";
    static final String FINGERPRINT_B = "tuneloop-gen2-run-b-checkpoint-2";

    /** Long generations (so requests span the swap) in batches of up to 4. */
    public static class LongChats extends BrokerStoreAndModel {
        @Override
        protected Map<String, String> overrides() {
            return Map.of("tuneloop.inference.limits.max-tokens", "256",
                    "tuneloop.inference.batching.max-batch-size", "4",
                    "tuneloop.inference.batching.max-wait", "20ms");
        }
    }

    record Call(int client, long start, long end, int status, String fingerprint, String text, String body) {}

    @TestHTTPResource("/v1/chat/completions")
    URL chatUrl;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aSwapUnderLoadFailsNoRequestAndACorruptPromotionLeavesBServing() throws Exception {
        InferenceServiceTest.awaitReady();
        AdapterPromoted a;
        AdapterPromoted b;
        try (ObjectStore store = BrokerStoreAndModel.store()) {
            a = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/run-a/ckpt-1/",
                    BrokerStoreAndModel.SERVED, 1, 60.0);
            b = TestModels.upload(store, TestModels.get().adapterB(), "s3://tuneloop/runs/run-b/ckpt-2/",
                    BrokerStoreAndModel.SERVED, 2, 70.0);
        }
        BrokerStoreAndModel.publish("run-a", a);
        InferenceServiceTest.awaitGeneration(1);
        List<String> questions = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            questions.add("Question " + c + ": " + "which river flows through which city? ".repeat(c + 1));
        }
        List<String> aloneA = alone(questions, FINGERPRINT_A);

        List<Call> calls = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long publishedAt;
        long swapSeenAt;
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                running.add(clients.submit(() -> {
                    while (!stop.get()) {
                        Call call = call(client, questions.get(client));
                        synchronized (calls) {
                            calls.add(call);
                        }
                    }
                    return null;
                }));
            }
            awaitCalls(calls, 2 * CLIENTS, Long.MIN_VALUE);
            publishedAt = System.nanoTime();
            BrokerStoreAndModel.publish("run-b", b);
            while (given().get("/v1/adapter").then().extract().jsonPath().getLong("adapter.generation") != 2) {
                assertTrue(System.nanoTime() - publishedAt < 30_000_000_000L, "B not served 30 s after its promotion");
                Thread.sleep(10);
            }
            swapSeenAt = System.nanoTime();
            awaitCalls(calls, 2 * CLIENTS, swapSeenAt);
            stop.set(true);
            for (Future<?> f : running) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            clients.shutdownNow();
        }
        List<String> aloneB = alone(questions, FINGERPRINT_B);

        int before = 0;
        int spanning = 0;
        int after = 0;
        int unclassified = 0;
        for (Call call : calls) {
            assertEquals(200, call.status(), "no request fails during the swap: " + call.body());
            boolean isA = call.fingerprint().equals(FINGERPRINT_A);
            assertTrue(isA || call.fingerprint().equals(FINGERPRINT_B), call.body());
            assertEquals((isA ? aloneA : aloneB).get(call.client()), call.text(),
                    "a batched answer equals the same request answered alone (client " + call.client() + ")");
            if (call.end() < publishedAt) {
                before++;
                assertTrue(isA, "ended before B was promoted: " + call.body());
            } else if (call.start() > swapSeenAt) {
                after++;
                assertTrue(!isA, "started after B served: " + call.body());
            } else if (call.start() < publishedAt - 100_000_000L && call.end() > swapSeenAt) {
                spanning++; // 100 ms of margin: accepted by the server before the promotion was even published
                assertTrue(isA, "started before the promotion, ended after the swap: bound to A when accepted");
            } else {
                unclassified++;
            }
        }
        System.out.printf("swap under load: %d requests ended before the promotion (A), %d spanned the swap (A),"
                + " %d started after it (B), %d in the margins; swap seen %.0f ms after publishing%n", before,
                spanning, after, unclassified, (swapSeenAt - publishedAt) / 1e6);
        assertTrue(spanning >= 1, "some requests must span the swap for the test to mean anything");
        assertTrue(after >= 2 * CLIENTS && before >= 2 * CLIENTS);

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        double batches = metric(metrics, "tuneloop_inference_batch_size_count");
        double singles = metric(metrics, "tuneloop_inference_batch_size_bucket{le=\"1.0\"}");
        double requests = metric(metrics, "tuneloop_inference_batch_size_sum");
        System.out.printf("batches: %.0f for %.0f requests, %.0f of size 1, max %.0f%n", batches, requests, singles,
                metric(metrics, "tuneloop_inference_batch_size_max"));
        assertTrue(batches > singles, "under concurrent load some batches hold more than one request");

        refuseAPromotionWithAMissingFile(b);
    }

    private void refuseAPromotionWithAMissingFile(AdapterPromoted b) throws Exception {
        Map<String, StoredObject> files = new TreeMap<>(b.files());
        StoredObject weights = files.get(AdapterFiles.WEIGHTS);
        files.put(AdapterFiles.WEIGHTS, new StoredObject("s3://tuneloop/runs/run-c/ckpt-3/gone.safetensors",
                weights.sha256(), weights.size()));
        BrokerStoreAndModel.publish("run-c", TestModels.promotion(BrokerStoreAndModel.SERVED, 3, files, 90.0));
        long deadline = System.currentTimeMillis() + 30_000;
        JsonPath status;
        do {
            Thread.sleep(50);
            status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        } while (status.get("last_refusal") == null && System.currentTimeMillis() < deadline);
        assertEquals("MISSING_FILE", status.getString("last_refusal.reason"), status.prettify());
        assertEquals(3, status.getInt("last_refusal.generation"));
        assertTrue(status.getString("last_refusal.message").contains("gone.safetensors"), status.prettify());
        assertEquals(2, status.getInt("adapter.generation"), "B keeps serving");
        assertEquals(FINGERPRINT_B, call(0, "Still there?").fingerprint());
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertEquals(1.0, metric(metrics, "tuneloop_inference_adapter_swap_failures_total{reason=\"missing_file\"}"));
        assertEquals(2.0, metric(metrics, "tuneloop_inference_adapter_swaps_total"));
    }

    /** Each question asked alone (no other request in flight), checking which adapter answered. */
    private List<String> alone(List<String> questions, String fingerprint) throws Exception {
        List<String> out = new ArrayList<>();
        for (String q : questions) {
            Call call = call(-1, q);
            assertEquals(200, call.status(), call.body());
            assertEquals(fingerprint, call.fingerprint());
            out.add(call.text());
        }
        return out;
    }

    private Call call(int client, String question) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(chatUrl.toURI()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(String.format(CHAT, question))).build();
        long start = System.nanoTime();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        long end = System.nanoTime();
        if (response.statusCode() != 200) {
            return new Call(client, start, end, response.statusCode(), "", "", response.body());
        }
        JsonPath body = JsonPath.from(response.body());
        return new Call(client, start, end, 200, body.getString("system_fingerprint"),
                body.getString("choices[0].message.content"), response.body());
    }

    /** Waits until every client has finished {@code total / CLIENTS} calls that started after {@code since}. */
    private static void awaitCalls(List<Call> calls, int total, long since) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (true) {
            int[] counts = new int[CLIENTS];
            synchronized (calls) {
                for (Call call : calls) {
                    if (call.start() > since) {
                        counts[call.client()]++;
                    }
                }
            }
            if (java.util.Arrays.stream(counts).allMatch(n -> n >= total / CLIENTS)) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "clients too slow: " + java.util.Arrays.toString(counts));
            Thread.sleep(20);
        }
    }

    /** The value of the Prometheus sample whose name and labels start with {@code sample}. */
    static double metric(String metrics, String sample) {
        String open = sample.endsWith("}") ? sample.substring(0, sample.length() - 1) : sample;
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(open) + "[^ ]* ([0-9.eE+-]+)$").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no metric " + sample + " in /q/metrics: " + metrics.lines()
                    .filter(l -> l.contains(open)).toList());
        }
        return Double.parseDouble(m.group(1));
    }
}
