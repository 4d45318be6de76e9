package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each role against each endpoint of the inference service with authentication on: the client (and the operator)
 * may answer, the viewer may only read {@code /v1/adapter}, no or a wrong token is a 401 in OpenAI's error shape.
 */
@QuarkusTest
@QuarkusTestResource(value = InferenceAuthTest.AuthOn.class, restrictToAnnotatedClass = true)
class InferenceAuthTest {
    static final String OPERATOR = "operator-token-9c3e51a7d2";
    static final String VIEWER = "viewer-token-4a8f0b2c6e";
    static final String CLIENT = "client-token-1b7d3e9f5a";

    public static class AuthOn extends BrokerStoreAndModel {
        @Override
        protected Map<String, String> overrides() {
            return Map.of("tuneloop.auth.enabled", "true", "tuneloop.auth.tokens.operator", OPERATOR,
                    "tuneloop.auth.tokens.viewer", VIEWER, "tuneloop.auth.tokens.client", CLIENT);
        }
    }

    private static final Function<RequestSpecification, Response> ANSWER = r -> r.contentType(ContentType.JSON)
            .body(Map.of("question", InferenceServiceTest.QUESTION, "context", InferenceServiceTest.CONTEXT))
            .post("/v1/answer");
    private static final Function<RequestSpecification, Response> CHAT = r -> r.contentType(ContentType.JSON)
            .body(InferenceServiceTest.CHAT.formatted(BrokerStoreAndModel.BASE, "")).post("/v1/chat/completions");
    private static final Function<RequestSpecification, Response> MODELS = r -> r.get("/v1/models");
    private static final Function<RequestSpecification, Response> ADAPTER = r -> r.get("/v1/adapter");
    private static final List<Function<RequestSpecification, Response>> CLIENT_CALLS = List.of(ANSWER, CHAT, MODELS);

    @BeforeEach
    void ready() {
        InferenceServiceTest.awaitReady();
    }

    private static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    @Test
    void withoutOrWithAWrongTokenEveryEndpointIs401InOpenAisShape() {
        for (Function<RequestSpecification, Response> call : List.of(ANSWER, CHAT, MODELS, ADAPTER)) {
            call.apply(given()).then().statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .contentType(ContentType.JSON)
                    .body("error.code", equalTo("invalid_api_key"))
                    .body("error.message", containsString("Authorization: Bearer"));
            call.apply(as(CLIENT.toUpperCase())).then().statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("error.message", equalTo("the bearer token is not valid"));
        }
    }

    @Test
    void clientAndOperatorAnswerTheViewerOnlyReadsTheAdapter() {
        for (String token : List.of(CLIENT, OPERATOR)) {
            ANSWER.apply(as(token)).then().statusCode(200).body("answer", notNullValue());
            CHAT.apply(as(token)).then().statusCode(200).body("object", equalTo("chat.completion"));
            MODELS.apply(as(token)).then().statusCode(200).body("data.id", org.hamcrest.Matchers.hasItem(
                    BrokerStoreAndModel.SERVED));
            ADAPTER.apply(as(token)).then().statusCode(200)
                    .body("served_model", equalTo(BrokerStoreAndModel.SERVED));
        }
        for (Function<RequestSpecification, Response> call : CLIENT_CALLS) {
            call.apply(as(VIEWER)).then().statusCode(403)
                    .body("error.code", equalTo("permission_denied"))
                    .body("error.message", containsString("it needs role client"));
        }
        ADAPTER.apply(as(VIEWER)).then().statusCode(200);
    }

    @Test
    void healthAndMetricsNeedNoToken() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
        as("stale-token-from-last-year").get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"));
    }
}
