package dev.tuneloop.orchestrator.api;

import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.saved;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunDeleted;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.Topic;
import dev.tuneloop.storage.ObjectStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class CancelDeleteTest {
    @Test
    void aCancelledRunCanBeDeletedWithItsObjectsAndItsIdIsNotReused() throws Exception {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        String run = "cd-run";
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(run)).post("/runs")
                .then().statusCode(201);
        given().delete("/runs/" + run).then().statusCode(409).body("message", containsString("REQUESTED"));

        given().queryParam("reason", "wrong data").post("/runs/" + run + "/cancel")
                .then().statusCode(202).body("status", equalTo("CANCELLING"));
        CancelRequested cancel = (CancelRequested) Topic.await(Topics.RUN_EVENTS, 1,
                e -> e.header().runId().equals(run) && e.payload() instanceof CancelRequested).get(0).payload();
        assertEquals("wrong data", cancel.reason());

        try (ObjectStore store = BrokerAndStore.store()) {
            store.putBytes(store.uri("runs/" + run + "/checkpoints/c1/adapter_config.json"),
                    "{}".getBytes(StandardCharsets.UTF_8));
            store.putBytes(store.uri("runs/" + run + "/checkpoints/c1/adapter_model.safetensors"), new byte[64]);
            store.putBytes(store.uri("runs/" + run + "-other/keep.txt"), new byte[1]);
            Topic.produce(event(run, saved(run, "c1", 1, 10)));
            Topic.produce(event(run, new RunCancelled("wrong data", 10)));
            Topic.until("cancelled", () -> "CANCELLED".equals(given().get("/runs/" + run).path("status")));
            given().post("/runs/" + run + "/cancel").then().statusCode(409);

            given().delete("/runs/" + run).then().statusCode(200).body("objectsDeleted", equalTo(2));
            assertTrue(store.list(store.uri("runs/" + run + "/")).isEmpty());
            assertEquals(1, store.list(store.uri("runs/" + run + "-other/")).size(), "a sibling folder is kept");
        }
        given().get("/runs/" + run).then().statusCode(404);
        assertEquals(1, Topic.await(Topics.RUN_EVENTS, 1,
                e -> e.header().runId().equals(run) && e.payload() instanceof RunDeleted).size());
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(run)).post("/runs")
                .then().statusCode(409).body("message", containsString("deleted"));
    }
}
