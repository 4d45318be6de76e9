package dev.tuneloop.orchestrator.api;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.evaluated;
import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.saved;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.Topic;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StorageException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * A run as a worker and the evaluator drive it, through the real broker: the orchestrator shows every checkpoint
 * with its scores, promotes by the policy (margin 1.0 by default), keeps a hand-made promotion pinned, and hands
 * the choice back to the policy when unpinned. The only test that scores checkpoints, since promotion is global.
 */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class PromotionFlowTest {
    private static final String RUN = "flow-run";
    private static final String GROUP = "tuneloop-orchestrator";

    @Test
    void checkpointsAreShownWithScoresAndPromotedByThePolicyUnlessPinned() throws Exception {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(RUN)).post("/runs")
                .then().statusCode(201);
        Topic.produce(event(RUN, new TrainingStarted("worker-1", 1, 0)));
        try (ObjectStore store = BrokerAndStore.store()) {
            for (String checkpoint : List.of("c1", "c2")) {
                for (String file : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS)) {
                    store.putBytes(ObjectUri.parse(Events.prefix(RUN, checkpoint) + file), new byte[] {1});
                }
            }
        }

        // The evaluation arrives before its checkpoint: nothing to serve until the files are known.
        Topic.produce(event(RUN, evaluated("c1", 60, EVAL_SET_A)));
        Topic.produce(event(RUN, saved(RUN, "c1", 1, 10)));
        assertEquals(1, awaitPromotions(1).get(0).generation());
        assertEquals("c1", awaitPromotions(1).get(0).checkpoint(), "nothing was promoted: the first is");

        Topic.produce(event(RUN, new TrainingProgressed(20, 2, 1.5, 1e-4, 900)));
        Topic.produce(event(RUN, saved(RUN, "c2", 2, 20)));
        Topic.produce(event(RUN, evaluated("c2", 60.5, EVAL_SET_A)));
        Topic.produce(event(RUN, saved(RUN, "c3", 3, 30)));
        Topic.produce(event(RUN, evaluated("c3", 75, EVAL_SET_A)));
        List<AdapterPromoted> promotions = awaitPromotions(2);
        assertEquals(List.of("c1", "c3"), promotions.stream().map(AdapterPromoted::checkpoint).toList(),
                "c2 beats c1 by 0.5 < margin 1.0 and must not be promoted");
        assertEquals(2, promotions.get(1).generation());

        given().get("/runs/" + RUN).then().statusCode(200)
                .body("status", equalTo("RUNNING"))
                .body("progress.step", equalTo(20))
                .body("progress.workerId", equalTo("worker-1"))
                .body("evalSetId", equalTo(EVAL_SET_A))
                .body("checkpoints.name", contains("c1", "c2", "c3"))
                .body("checkpoints.f1", contains(60.0f, 60.5f, 75.0f))
                .body("checkpoints.exactMatch", contains(50.0f, 50.5f, 65.0f))
                .body("checkpoints.promoted", contains(false, false, true))
                .body("best.name", equalTo("c3"));

        // By hand: roll back to c1, pinned. A far better c4 then does not replace it.
        given().contentType(ContentType.JSON).body("{\"runId\": \"" + RUN + "\", \"checkpoint\": \"c1\"}")
                .post("/promotions")
                .then().statusCode(201).body("generation", equalTo(3)).body("pinned", equalTo(true));
        Topic.produce(event(RUN, saved(RUN, "c4", 4, 40)));
        RecordMetadata c4 = Topic.produce(event(RUN, evaluated("c4", 95, EVAL_SET_A)));
        Topic.awaitHandled(GROUP, c4);
        given().get("/promotions").then().statusCode(200)
                .body("current.checkpoint", equalTo("c1"))
                .body("current.pinned", equalTo(true))
                .body("history.generation", contains(3, 2, 1));

        // Unpinned, the policy decides again at once: c4 (95) beats c1 (60) by more than the margin.
        given().contentType(ContentType.JSON)
                .body("{\"runId\": \"" + RUN + "\", \"checkpoint\": \"c1\", \"pinned\": false}")
                .post("/promotions")
                .then().statusCode(201).body("generation", equalTo(4)).body("pinned", equalTo(false));
        given().get("/promotions").then().statusCode(200)
                .body("current.checkpoint", equalTo("c4"))
                .body("current.generation", equalTo(5))
                .body("current.f1", equalTo(95.0f))
                .body("current.pinned", equalTo(false));
        assertEquals(5, awaitPromotions(5).size());

        Topic.produce(event(RUN, new RunCompleted(40, List.of("c1", "c2", "c3", "c4"))));
        Topic.until("completed", () -> "COMPLETED".equals(given().get("/runs/" + RUN).path("status")));
        // Retention (last 3, the best, the promoted): c1 is no longer kept.
        given().get("/runs/" + RUN).then().body("checkpoints.retained", contains(false, true, true, true));
        try (ObjectStore store = BrokerAndStore.store()) {
            Topic.until("c1's objects are deleted",
                    () -> list(store, Events.prefix(RUN, "c1")).isEmpty());
            assertEquals(2, list(store, Events.prefix(RUN, "c2")).size(), "c2 is among the last 3");
        }
        given().delete("/runs/" + RUN).then().statusCode(409).body("message", containsString("promoted"));
    }

    @Test
    void promotingAnUnknownOrUnsavedCheckpointIsRefused() {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        given().contentType(ContentType.JSON).body("{\"runId\": \"nope\", \"checkpoint\": \"c1\"}")
                .post("/promotions").then().statusCode(404);
        given().contentType(ContentType.JSON).body("{\"runId\": \"\", \"extra\": 1}")
                .post("/promotions").then().statusCode(400).body("fieldErrors[0].field", equalTo("extra"));
        given().contentType(ContentType.JSON).body("{\"checkpoint\": \"c1\"}")
                .post("/promotions").then().statusCode(400).body("fieldErrors.field", contains("runId"));
    }

    private static List<ObjectUri> list(ObjectStore store, String folder) {
        try {
            return store.list(ObjectUri.parse(folder));
        } catch (StorageException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<AdapterPromoted> awaitPromotions(int count) {
        List<EventEnvelope<?>> events = Topic.await(Topics.ADAPTER_PROMOTED, count, e -> true);
        List<AdapterPromoted> promotions = events.stream().map(e -> (AdapterPromoted) e.payload())
                .sorted((a, b) -> Long.compare(a.generation(), b.generation())).toList();
        assertTrue(promotions.size() >= count, "expected " + count + " promotions, got " + promotions);
        return promotions;
    }
}
