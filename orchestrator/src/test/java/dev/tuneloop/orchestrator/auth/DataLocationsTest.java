package dev.tuneloop.orchestrator.auth;

import static dev.tuneloop.orchestrator.Events.RUN_BODY;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Topic;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * POST /runs accepts data only in the configured bucket under the allowed prefixes ({@code datasets/}, {@code runs/}
 * by default) or from an allow-listed https host; anything else is a 400 naming the field and the reason.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
@QuarkusTestResource(BrokerAndStore.class)
class DataLocationsTest {
    private static final String TRAIN = "s3://tuneloop/datasets/squad/train.jsonl";

    @BeforeEach
    void ready() {
        Topic.until("the orchestrator is ready", () -> given().get("/q/health/ready").statusCode() == 200);
    }

    private static ValidatableResponse post(String runId, String trainDataUri) {
        return given().header("Authorization", "Bearer " + AuthOn.OPERATOR).contentType(ContentType.JSON)
                .body(RUN_BODY.formatted(runId).replace(TRAIN, trainDataUri)).post("/runs").then();
    }

    private static void refused(String runId, String uri, String message) {
        post(runId, uri).statusCode(400)
                .body("fieldErrors[0].field", equalTo("trainDataUri"))
                .body("fieldErrors[0].message", equalTo(message));
        given().header("Authorization", "Bearer " + AuthOn.OPERATOR).get("/runs/" + runId).then().statusCode(404);
    }

    @Test
    void locationsOutsideTheBucketPrefixesOrAllowListAre400sNamingFieldAndHost() {
        refused("loc-1", "https://huggingface.co/datasets/squad/train.json",
                "trainDataUri: location 'https://huggingface.co/datasets/squad/train.json' is not allowed: host"
                        + " 'huggingface.co' is not in the https allow-list tuneloop.storage.allowed-https-hosts="
                        + "[data.example.org]");
        refused("loc-2", "https://169.254.169.254/latest/meta-data/",
                "trainDataUri: location 'https://169.254.169.254/latest/meta-data/' is not allowed: host"
                        + " '169.254.169.254' is not in the https allow-list tuneloop.storage.allowed-https-hosts="
                        + "[data.example.org]");
        refused("loc-3", "https://data.example.org:8443/train.json",
                "trainDataUri: location 'https://data.example.org:8443/train.json' is not allowed: host"
                        + " 'data.example.org:8443' is not in the https allow-list tuneloop.storage.allowed-https-hosts="
                        + "[data.example.org]");
        refused("loc-4", "s3://other-bucket/datasets/train.jsonl",
                "trainDataUri: location 's3://other-bucket/datasets/train.jsonl' is not allowed: the bucket must be"
                        + " 'tuneloop'");
        refused("loc-5", "s3://tuneloop/secrets/train.jsonl",
                "trainDataUri: location 's3://tuneloop/secrets/train.jsonl' is not allowed: the key must start with"
                        + " one of [datasets/, runs/]");
        refused("loc-6", "https://user:hunter2-secret@data.example.org/train.json",
                "trainDataUri: location 'https://****@data.example.org/train.json' is not allowed: credentials in"
                        + " the URL are not allowed");
    }

    @Test
    void anAllowListedHostAndTheBucketsPrefixesAreAccepted() {
        post("loc-ok-1", "https://data.example.org/squad/train.json").statusCode(201)
                .body("request.trainDataUri", equalTo("https://data.example.org/squad/train.json"));
        post("loc-ok-2", "s3://tuneloop/runs/earlier/data/train.jsonl").statusCode(201);
    }
}
