package dev.tuneloop.orchestrator.api;

import static dev.tuneloop.orchestrator.Events.RUN_BODY;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Topic;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class RunsApiTest {
    @BeforeEach
    void stateIsRebuilt() {
        Topic.until("the orchestrator is ready",
                () -> given().get("/q/health/ready").statusCode() == 200);
    }

    @Test
    void aRequestedRunIsPublishedAndShownWithDefaultsFilledIn() {
        given().contentType(ContentType.JSON).body(RUN_BODY.formatted("api-run-1"))
                .post("/runs")
                .then().statusCode(201)
                .header("Location", containsString("/runs/api-run-1"))
                .body("runId", equalTo("api-run-1"))
                .body("status", equalTo("REQUESTED"))
                .body("request.hyperParameters.epochs", equalTo(2))
                .body("request.hyperParameters.loraR", equalTo(8))
                .body("request.modelRevision", equalTo("main"));

        List<EventEnvelope<?>> published = Topic.await(Topics.TRAINING_REQUESTED, 1,
                e -> e.header().runId().equals("api-run-1"));
        assertEquals(1, published.size());
        TrainingRequested request = (TrainingRequested) published.get(0).payload();
        assertEquals(3e-4, request.hyperParameters().lr());
        assertEquals(List.of("q_proj", "v_proj"), request.hyperParameters().targetModules());
        assertEquals("s3://tuneloop/datasets/squad/train.jsonl", request.trainDataUri());

        given().get("/runs/api-run-1").then().statusCode(200).body("status", equalTo("REQUESTED"));
        given().get("/runs").then().statusCode(200).body("runId", hasItem("api-run-1"));
    }

    @Test
    void repeatingARequestIsIdempotentAndADifferentOneUnderTheSameIdConflicts() {
        given().contentType(ContentType.JSON).body(RUN_BODY.formatted("api-run-2")).post("/runs")
                .then().statusCode(201);
        given().contentType(ContentType.JSON).body(RUN_BODY.formatted("api-run-2")).post("/runs")
                .then().statusCode(200).body("runId", equalTo("api-run-2"));
        given().contentType(ContentType.JSON)
                .body(RUN_BODY.formatted("api-run-2").replace("\"epochs\": 2", "\"epochs\": 5"))
                .post("/runs")
                .then().statusCode(409).body("message", containsString("api-run-2"));
        // A publish is acknowledged before the response, so the topic holds everything the requests published.
        assertEquals(1, Topic.read(Topics.TRAINING_REQUESTED).stream()
                        .filter(r -> "api-run-2".equals(new String(r.key(), StandardCharsets.UTF_8))).count(),
                "the repeated request must not publish a second TrainingRequested");
    }

    @Test
    void invalidFieldsAreA400NamingEachField() {
        String body = """
                {"runId": "bad/id", "modelId": " ", "trainDataUri": "ftp://x/y", "evalDataUri": "s3://tuneloop/d.jsonl",
                 "hyperParameters": {"epochs": 0, "lr": -1, "targetModules": ["q_proj", ""]}}""";
        given().contentType(ContentType.JSON).body(body).post("/runs")
                .then().statusCode(400)
                .body("status", equalTo(400))
                .body("fieldErrors.field", hasItems("runId", "modelId", "trainDataUri", "hyperParameters.epochs",
                        "hyperParameters.lr", "hyperParameters.targetModules[1]"));
    }

    @Test
    void anUnknownFieldIsA400NamingIt() {
        given().contentType(ContentType.JSON)
                .body(RUN_BODY.formatted("api-run-3").replace("\"epochs\": 2", "\"epochs\": 2, \"learningRate\": 1"))
                .post("/runs")
                .then().statusCode(400)
                .body("fieldErrors[0].field", equalTo("hyperParameters.learningRate"))
                .body("fieldErrors[0].message", containsString("learningRate"));
        given().contentType(ContentType.JSON)
                .body(RUN_BODY.formatted("api-run-3").replace("{\"runId\"", "{\"model\": \"x\", \"runId\""))
                .post("/runs")
                .then().statusCode(400)
                .body("fieldErrors[0].field", equalTo("model"));
        given().get("/runs/api-run-3").then().statusCode(404);
    }

    @Test
    void wrongTypesBadUrisAndBrokenJsonAre400s() {
        given().contentType(ContentType.JSON)
                .body(RUN_BODY.formatted("api-run-4").replace("\"epochs\": 2", "\"epochs\": \"two\""))
                .post("/runs")
                .then().log().ifValidationFails()
                .statusCode(400).body("fieldErrors[0].field", equalTo("hyperParameters.epochs"));
        given().contentType(ContentType.JSON)
                .body(RUN_BODY.formatted("api-run-4").replace("s3://tuneloop/datasets/squad/train.jsonl", "s3://B/x"))
                .post("/runs")
                .then().statusCode(400).body("fieldErrors[0].field", equalTo("trainDataUri"));
        given().contentType(ContentType.JSON).body("{\"runId\": ").post("/runs").then().statusCode(400);
        given().contentType(ContentType.JSON).post("/runs").then().statusCode(400);
    }

    @Test
    void unknownRunsAre404() {
        given().get("/runs/no-such-run").then().statusCode(404).body("message", containsString("no-such-run"));
        given().post("/runs/no-such-run/cancel").then().statusCode(404);
        given().delete("/runs/no-such-run").then().statusCode(404);
    }

    @Test
    void openApiHealthAndMetricsAreServed() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths.keySet()", hasItems("/runs", "/runs/{id}", "/runs/{id}/cancel", "/promotions"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("tuneloop_orchestrator_runs"))
                .body(containsString("tuneloop_orchestrator_live 1.0"));
    }
}
