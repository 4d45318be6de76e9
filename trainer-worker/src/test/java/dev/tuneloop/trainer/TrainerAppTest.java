package dev.tuneloop.trainer;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneloop.messaging.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The application boots against real back ends: ready once the model is resolved and the loop polls; metrics. */
@QuarkusTest
@QuarkusTestResource(Backends.class)
class TrainerAppTest {
    @Test
    void becomesReadyAndExportsItsMetrics() {
        given().get("/q/health/live").then().statusCode(200);
        TestKafka.waitUntil(Duration.ofSeconds(60), "readiness",
                () -> given().get("/q/health/ready").statusCode() == 200,
                () -> given().get("/q/health/ready").asString());
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks[0].name", equalTo("trainer"))
                .body("checks[0].data.model", containsString("model"));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("tuneloop_trainer_consumer_lag"))
                .body(containsString("tuneloop_trainer_job_running"))
                .body(containsString("tuneloop_trainer_storage_retries_total"))
                .body(containsString("tuneloop_trainer_storage_failures_total"));
    }
}
