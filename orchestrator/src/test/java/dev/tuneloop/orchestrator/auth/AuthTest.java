package dev.tuneloop.orchestrator.auth;

import static dev.tuneloop.orchestrator.Events.RUN_BODY;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Topic;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each role against each endpoint class of the orchestrator: allowed, 401 without/with a wrong token, 403. */
@QuarkusTest
@TestProfile(AuthOn.class)
@QuarkusTestResource(BrokerAndStore.class)
class AuthTest {
    /** Write endpoints (operator only), each called so that it passes security and then does its work. */
    private static final Function<RequestSpecification, Response> CREATE = r -> r.contentType(ContentType.JSON)
            .body(RUN_BODY.formatted("auth-run-1")).post("/runs");
    private static final Function<RequestSpecification, Response> CANCEL = r -> r.post("/runs/auth-run-1/cancel");
    private static final Function<RequestSpecification, Response> DELETE = r -> r.delete("/runs/no-such-run");
    private static final Function<RequestSpecification, Response> PROMOTE = r -> r.contentType(ContentType.JSON)
            .body("{\"runId\": \"no-such-run\", \"checkpoint\": \"epoch-1\"}").post("/promotions");
    /** Read endpoints (viewer or operator). */
    private static final Function<RequestSpecification, Response> LIST = r -> r.get("/runs");
    private static final Function<RequestSpecification, Response> GET = r -> r.get("/runs/no-such-run");
    private static final Function<RequestSpecification, Response> PROMOTIONS = r -> r.get("/promotions");

    @BeforeEach
    void ready() {
        Topic.until("the orchestrator is ready", () -> given().get("/q/health/ready").statusCode() == 200);
    }

    private static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    @Test
    void withoutOrWithAWrongTokenEveryEndpointIs401WithABearerChallenge() {
        for (Function<RequestSpecification, Response> call : List.of(CREATE, CANCEL, DELETE, PROMOTE,
                LIST, GET, PROMOTIONS)) {
            call.apply(given()).then().statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .contentType(ContentType.JSON)
                    .body("status", equalTo(401))
                    .body("message", containsString("Authorization: Bearer"));
            call.apply(as(AuthOn.OPERATOR + "x")).then().statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("status", equalTo(401))
                    .body("message", equalTo("the bearer token is not valid"));
            // the digest configured for the viewer is not itself a token; neither is another scheme
            call.apply(as(AuthOn.sha256(AuthOn.VIEWER))).then().statusCode(401);
            call.apply(given().header("Authorization", "Basic b3BlcmF0b3I6" + AuthOn.OPERATOR)).then()
                    .statusCode(401);
        }
    }

    @Test
    void theClientRoleMayNotCallTheOrchestratorAndTheViewerOnlyReads() {
        for (Function<RequestSpecification, Response> call : List.of(CREATE, CANCEL, DELETE, PROMOTE,
                LIST, GET, PROMOTIONS)) {
            call.apply(as(AuthOn.CLIENT)).then().statusCode(403).body("status", equalTo(403));
        }
        for (Function<RequestSpecification, Response> write : List.of(CREATE, CANCEL, DELETE, PROMOTE)) {
            write.apply(as(AuthOn.VIEWER)).then().statusCode(403)
                    .body("message", equalTo("the token's role may not call this endpoint; it needs role operator"
                            + " (an operator token may call everything)"));
        }
        LIST.apply(as(AuthOn.VIEWER)).then().statusCode(200);
        GET.apply(as(AuthOn.VIEWER)).then().statusCode(404).body("message", equalTo("run no-such-run is unknown"));
        PROMOTIONS.apply(as(AuthOn.VIEWER)).then().statusCode(200).body("servedModel", equalTo("qwen-squad"));
        as(AuthOn.VIEWER).contentType(ContentType.JSON).body(RUN_BODY.formatted("auth-run-refused")).post("/runs")
                .then().statusCode(403);
        as(AuthOn.OPERATOR).get("/runs/auth-run-refused").then().statusCode(404);
    }

    @Test
    void theOperatorMayDoEverything() {
        CREATE.apply(as(AuthOn.OPERATOR)).then().statusCode(201).body("runId", equalTo("auth-run-1"));
        CANCEL.apply(as(AuthOn.OPERATOR)).then().statusCode(202).body("status", equalTo("CANCELLING"));
        DELETE.apply(as(AuthOn.OPERATOR)).then().statusCode(404);
        PROMOTE.apply(as(AuthOn.OPERATOR)).then().statusCode(404);
        LIST.apply(as(AuthOn.OPERATOR)).then().statusCode(200);
        GET.apply(as(AuthOn.OPERATOR)).then().statusCode(404);
        PROMOTIONS.apply(as(AuthOn.OPERATOR)).then().statusCode(200);
        given().header("Authorization", "bearer " + AuthOn.OPERATOR).get("/runs/auth-run-1").then().statusCode(200)
                .body("status", equalTo("CANCELLING"));
    }

    @Test
    void healthAndMetricsNeedNoTokenEvenWhenAStaleOneIsSent() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"));
        as("stale-token-from-last-year").get("/q/health/ready").then().statusCode(200);
        as("stale-token-from-last-year").get("/q/metrics").then().statusCode(200);
    }
}
