package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Fault: a storm of promotions under steady load. While {@value #CLIENTS} clients keep asking questions, 10 good
 * promotions (adapters A and B alternating, each under its own run) and 2 corrupt ones (a tampered sha256, an adapter
 * of another model's shape) arrive on the real broker. No request fails, every answer names a verified good adapter
 * and carries that adapter's greedy answer, the newest good adapter serves at the end, and replaying older promotions
 * afterwards changes nothing.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
class PromotionStormTest {
    private static final int CLIENTS = 4;
    private static final int GENERATIONS = 12;
    /** Generations whose adapter is corrupt: 4 (checksum does not match), 9 (shapes of a wider model). */
    private static final Set<Long> CORRUPT = Set.of(4L, 9L);
    private static final String BODY = "{\"question\": \"" + InferenceServiceTest.QUESTION + "\", \"context\": \""
            + InferenceServiceTest.CONTEXT + "\"}";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/v1/answer")
    URL answerUrl;

    @Test
    void noRequestFailsAndOnlyVerifiedAdaptersAnswerWhileTenGoodAndTwoCorruptPromotionsArrive() throws Exception {
        InferenceServiceTest.awaitReady();
        TestModels.Models models = TestModels.get();
        Map<Long, AdapterPromoted> promotions = new TreeMap<>();
        try (ObjectStore store = BrokerStoreAndModel.store()) {
            for (long g = 1; g <= GENERATIONS; g++) {
                promotions.put(g, upload(store, models, g));
            }
        }
        // What each good adapter answers, from the service itself with nothing else going on.
        BrokerStoreAndModel.publish(run(1), promotions.get(1L));
        InferenceServiceTest.awaitGeneration(1);
        String answerOfA = answer().path("answer").asText();
        BrokerStoreAndModel.publish(run(2), promotions.get(2L));
        InferenceServiceTest.awaitGeneration(2);
        String answerOfB = answer().path("answer").asText();
        assertTrue(!answerOfA.equals(answerOfB), "A and B must answer differently to tell them apart: " + answerOfA);

        AtomicBoolean loading = new AtomicBoolean(true);
        List<String> failures = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> answeredBy = new ConcurrentHashMap<>();
        AtomicInteger requests = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> running = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < CLIENTS; i++) {
            running.add(clients.submit(() -> {
                while (loading.get()) {
                    requests.incrementAndGet();
                    try {
                        JsonNode body = answer();
                        String run = body.path("adapter").path("run").asText("<base model>");
                        long generation = generation(run);
                        String checkpoint = body.path("adapter").path("checkpoint").asText();
                        String expected = generation % 2 == 1 ? answerOfA : answerOfB;
                        if (generation < 1 || CORRUPT.contains(generation)
                                || !checkpoint.equals("checkpoint-" + generation)) {
                            failures.add("answered by an adapter never verified: " + body);
                        } else if (!expected.equals(body.path("answer").asText())) {
                            failures.add("generation " + generation + " answered " + body.path("answer")
                                    + ", its adapter answers \"" + expected + "\"");
                        }
                        answeredBy.computeIfAbsent(run, r -> new AtomicInteger()).incrementAndGet();
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
                return null;
            }));
        }
        for (long g = 3; g <= GENERATIONS; g++) {
            Thread.sleep(250);
            BrokerStoreAndModel.publish(run(g), promotions.get(g));
        }
        InferenceServiceTest.awaitGeneration(GENERATIONS);
        Thread.sleep(300); // the load goes on a little on the newest adapter
        loading.set(false);
        for (Future<?> f : running) {
            f.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("storm: %d requests in %.1f s by %d clients, answered by %s%n", requests.get(), seconds,
                CLIENTS, answeredBy);

        assertEquals(List.of(), failures, "no request may fail or be answered by a corrupt adapter");
        assertTrue(requests.get() >= 8, "too little load to mean anything: " + requests.get() + " requests");
        assertTrue(answeredBy.size() >= 3, "the load saw only " + answeredBy.keySet() + " while adapters swapped");
        JsonPath status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals(GENERATIONS, status.getLong("adapter.generation"), status.prettify());
        assertEquals(run(GENERATIONS), status.getString("adapter.run"));
        assertEquals(2.0, status.getDouble("failed_swaps"), status.prettify());
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : List.of("tuneloop_inference_adapter_swap_failures_total{reason=\"checksum\"} 1.0",
                "tuneloop_inference_adapter_swap_failures_total{reason=\"does_not_fit\"} 1.0")) {
            assertTrue(metrics.contains(line), "metrics lack " + line);
        }

        // A replayed older promotion (re-delivered, or read again after a restart) leaves the newest one serving.
        for (long g : new long[] {GENERATIONS - 1, 3, 1}) {
            BrokerStoreAndModel.publish(run(g), promotions.get(g));
        }
        Thread.sleep(1000);
        JsonPath after = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals(GENERATIONS, after.getLong("adapter.generation"), after.prettify());
        assertEquals(status.getDouble("swaps"), after.getDouble("swaps"), "a replayed old promotion swapped");
        assertEquals(run(GENERATIONS), answer().path("adapter").path("run").asText());
    }

    private static AdapterPromoted upload(ObjectStore store, TestModels.Models models, long g) throws Exception {
        String prefix = "s3://tuneloop/runs/" + run(g) + "/checkpoint-" + g + "/";
        if (g == 9) {
            return TestModels.upload(store, models.wrongShape(), prefix, BrokerStoreAndModel.SERVED, g, 50.0 + g);
        }
        Path adapter = g % 2 == 1 ? models.adapterA() : models.adapterB();
        AdapterPromoted good = TestModels.upload(store, adapter, prefix, BrokerStoreAndModel.SERVED, g, 50.0 + g);
        if (g != 4) {
            return good;
        }
        Map<String, StoredObject> files = new TreeMap<>(good.files());
        StoredObject weights = files.get(AdapterFiles.WEIGHTS);
        files.put(AdapterFiles.WEIGHTS, new StoredObject(weights.uri(), "0".repeat(64), weights.size()));
        return TestModels.promotion(BrokerStoreAndModel.SERVED, g, files, 50.0 + g);
    }

    private static String run(long generation) {
        return (CORRUPT.contains(generation) ? "storm-corrupt-" : "storm-good-") + generation;
    }

    /** The generation a run name of this test stands for; -1 for anything else. */
    private static long generation(String run) {
        String good = "storm-good-";
        return run.startsWith(good) ? Long.parseLong(run.substring(good.length())) : -1;
    }

    private JsonNode answer() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(answerUrl.toString()))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
