package dev.tuneloop.orchestrator.api;

import static dev.tuneloop.orchestrator.Events.RUN_BODY;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.Topic;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /runs} with input the trainer could never use: a 400 naming the field (never a 500, never a stack
 * trace), and nothing left behind — no run record, no {@code TrainingRequested} on the topic.
 */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class BadInputTest {
    @BeforeEach
    void stateIsRebuilt() {
        Topic.until("the orchestrator is ready", () -> given().get("/q/health/ready").statusCode() == 200);
    }

    @Test
    void hyperParametersOutOfRangeAreA400NamingFieldAndBound() {
        String[][] cases = {
            {"\"lr\": 0", "hyperParameters.lr", "greater than 0"},
            {"\"lr\": -0.001", "hyperParameters.lr", "greater than 0"},
            {"\"lr\": 2", "hyperParameters.lr", "less than or equal to 1"},
            {"\"loraR\": 0", "hyperParameters.loraR", "greater than or equal to 1"},
            {"\"loraR\": 4096", "hyperParameters.loraR", "less than or equal to 1024"},
            {"\"batchSize\": 0", "hyperParameters.batchSize", "greater than or equal to 1"},
            {"\"epochs\": 1000000", "hyperParameters.epochs", "less than or equal to 1000"},
            {"\"loraAlpha\": 0", "hyperParameters.loraAlpha", "greater than or equal to 1"},
            {"\"loraAlpha\": -16", "hyperParameters.loraAlpha", "greater than or equal to 1"},
            {"\"loraDropout\": 1", "hyperParameters.loraDropout", "less than 1"},
            {"\"loraDropout\": 1.5", "hyperParameters.loraDropout", "less than 1"},
            {"\"maxSeqLen\": 0", "hyperParameters.maxSeqLen", "greater than or equal to 16"},
            {"\"maxSeqLen\": 1000000", "hyperParameters.maxSeqLen", "less than or equal to 32768"},
            {"\"promptMode\": \"chat\"", "hyperParameters.promptMode", "context or question-only"},
            {"\"targetModules\": [\"q_proj\", \"lm_head\"]", "hyperParameters.targetModules[1]", "q_proj"},
        };
        for (String[] c : cases) {
            post(withHyperParameters("bad-hp", c[0])).statusCode(400)
                    .body("fieldErrors.size()", equalTo(1))
                    .body("fieldErrors[0].field", equalTo(c[1]))
                    .body("fieldErrors[0].message", containsString(c[2]));
        }
        // an integer too large for its field is a 400 too, not an overflow
        post(withHyperParameters("bad-hp", "\"epochs\": 99999999999")).statusCode(400)
                .body("fieldErrors[0].field", equalTo("hyperParameters.epochs"));
        given().get("/runs/bad-hp").then().statusCode(404);
        assertNothingPublished("bad-hp");
    }

    @Test
    void theDefaultsAreRunsTheTrainerAccepts() {
        post(withHyperParameters("defaults-ok", "")).statusCode(201)
                .body("request.hyperParameters.promptMode", equalTo("context"))
                .body("request.hyperParameters.maxSeqLen", equalTo(512));
    }

    @Test
    void aRunTheTrainerRefusesForItsDataShowsStageAndReasonInGetRuns() {
        post(RUN_BODY.formatted("bad-data-run")).statusCode(201);
        String reason = "s3://tuneloop/datasets/squad/train.jsonl: no valid SQuAD questions (jsonl, 1 bad records; "
                + "first: s3://tuneloop/datasets/squad/train.jsonl [2]: malformed JSON at column 14)";
        // what the trainer worker publishes (trainer-worker BadInputTest proves it does)
        Topic.produce(EventEnvelope.create("bad-data-run", Events.LINEAGE, new RunFailed("data", reason),
                Instant.now()));
        Topic.until("the failure is shown", () -> "FAILED".equals(given().get("/runs/bad-data-run").then()
                .extract().path("status")));
        given().get("/runs/bad-data-run").then().statusCode(200)
                .body("status", equalTo("FAILED"))
                .body("statusReason", equalTo("data: " + reason));
    }

    @Test
    void s3UrisWithTraversalAbsoluteKeysOrAnotherBucketAreRefused() {
        String good = "s3://tuneloop/datasets/squad/train.jsonl";
        String[][] cases = {
            {"s3://tuneloop/datasets/../secrets/keys.jsonl", "'..' segment"},
            {"s3://tuneloop/../../etc/passwd", "'..' segment"},
            {"s3://tuneloop//etc/passwd", "must not start with '/'"},
            {"s3://other-bucket/datasets/squad/train.jsonl", "the bucket must be 'tuneloop'"},
            {"s3://tuneloop/secrets/train.jsonl", "the key must start with one of [datasets/, runs/]"},
            {"s3://tuneloop/datasets/./train.jsonl", "'.' segment"},
            {"s3://tuneloop/datasets\\\\train.jsonl", "backslash"},
        };
        for (String[] c : cases) {
            post(RUN_BODY.formatted("bad-uri").replace(good, c[0])).statusCode(400)
                    .body("fieldErrors[0].field", equalTo("trainDataUri"))
                    .body("fieldErrors[0].message", containsString(c[1]));
        }
        post(RUN_BODY.formatted("bad-uri").replace("\"hyperParameters\"",
                "\"initAdapter\": \"s3://elsewhere/runs/r1/best/\", \"hyperParameters\"")).statusCode(400)
                .body("fieldErrors[0].field", equalTo("initAdapter"))
                .body("fieldErrors[0].message", containsString("'s3://elsewhere/runs/r1/best/' is not allowed"));
        given().get("/runs/bad-uri").then().statusCode(404);
        assertNothingPublished("bad-uri");
    }

    @Test
    void invalidUtf8AndNonJsonBodiesAreA400WithoutAStackTrace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] body = RUN_BODY.formatted("bad-utf8").getBytes(StandardCharsets.UTF_8);
        int at = RUN_BODY.indexOf("Qwen/");
        bytes.write(body, 0, at);
        bytes.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF});
        bytes.write(body, at, body.length - at);
        given().contentType(ContentType.JSON).body(bytes.toByteArray()).post("/runs").then()
                .statusCode(400)
                .body("message", containsString("UTF-8"))
                .body(not(containsString("at com.fasterxml")))
                .body(not(containsString("Exception")));
        given().contentType(ContentType.JSON).body("[1, 2]").post("/runs").then().statusCode(400)
                .body(not(containsString("at com.fasterxml")));
        given().contentType(ContentType.JSON).body("{\"runId\": \"x\"} trailing").post("/runs").then()
                .statusCode(400);
        given().contentType(ContentType.JSON).body("{".repeat(5000)).post("/runs").then().statusCode(400);
        given().get("/runs/bad-utf8").then().statusCode(404);
        assertNothingPublished("bad-utf8");
    }

    @Test
    void unknownFieldsAreRefusedAtEveryLevelOfTheBody() {
        post(RUN_BODY.formatted("bad-field").replace("\"lr\": 0.0003", "\"lr\": 0.0003, \"lora_r\": 8"))
                .statusCode(400)
                .body("fieldErrors[0].field", equalTo("hyperParameters.lora_r"))
                .body("fieldErrors[0].message", containsString("known: "));
        post(RUN_BODY.formatted("bad-field").replace("{\"runId\"", "{\"priority\": 1, \"runId\""))
                .statusCode(400)
                .body("fieldErrors[0].field", equalTo("priority"));
        given().get("/runs/bad-field").then().statusCode(404);
        assertNothingPublished("bad-field");
    }

    /** A valid request whose hyper-parameters are only {@code fields}. */
    private static String withHyperParameters(String runId, String fields) {
        return RUN_BODY.formatted(runId)
                .replace("\"epochs\": 2, \"lr\": 0.0003, \"targetModules\": [\"q_proj\", \"v_proj\"]", fields);
    }

    private static ValidatableResponse post(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/runs").then()
                .body(not(containsString("\tat ")));
    }

    private static void assertNothingPublished(String runId) {
        assertEquals(0, Topic.read(Topics.TRAINING_REQUESTED).stream()
                .filter(r -> runId.equals(new String(r.key(), StandardCharsets.UTF_8))).count(),
                "a refused request must publish nothing for " + runId);
    }
}
