package dev.tuneloop.evaluator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StorageSettings;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The application boots against real back ends, becomes ready with its base model, evaluates a checkpoint. */
@QuarkusTest
@QuarkusTestResource(Backends.class)
class EvaluatorAppTest {
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "tuneloop.storage.endpoint")
    String s3Endpoint;

    @Test
    void becomesReadyEvaluatesASavedCheckpointAndCountsIt() throws Exception {
        given().get("/q/health/live").then().statusCode(200);
        TestKafka.waitUntil(Duration.ofSeconds(60), "readiness",
                () -> given().get("/q/health/ready").statusCode() == 200,
                () -> given().get("/q/health/ready").asString());
        given().get("/q/health/ready").then().body("checks[0].name", equalTo("evaluator"));

        Path adapter = Fixtures.noiseAdapter(Files.createTempDirectory("adapter"), 17, Fixtures.EVAL_URI, 4);
        try (ObjectStore store = new ObjectStore(new StorageSettings(s3Endpoint, S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, null, Fixtures.BUCKET));
                TestKafka kafka = new TestKafka(bootstrap)) {
            Fixtures.upload(store, Fixtures.EVAL_URI, Fixtures.squadLines(300, 6));
            kafka.send(Fixtures.checkpoint(store, "run-app", "step-000003", adapter, Fixtures.ALL_FILES));
            TestKafka.waitUntil(Duration.ofSeconds(60), "CheckpointEvaluated",
                    () -> !kafka.events(Topics.CHECKPOINT_EVALUATED, CheckpointEvaluated.class).isEmpty(),
                    () -> given().get("/q/health/ready").asString());
            List<CheckpointEvaluated> evaluated = kafka.events(Topics.CHECKPOINT_EVALUATED, CheckpointEvaluated.class)
                    .stream().map(e -> e.payload()).toList();
            assertEquals(1, evaluated.size());
            assertEquals("step-000003", evaluated.get(0).checkpoint());
            assertEquals(4, evaluated.get(0).n(), "the run's eval limit");
        }
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("tuneloop_evaluator_evaluation_seconds_count{outcome=\"evaluated\"} 1.0"))
                .body(containsString("tuneloop_evaluator_consumer_lag"));
    }
}
