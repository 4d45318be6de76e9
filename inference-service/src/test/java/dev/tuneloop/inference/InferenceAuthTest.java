package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.storage.S3ProxyServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
@TestProfile(InferenceAuthTest.AuthOn.class)
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
class InferenceAuthTest {
    static final String OPERATOR = "operator-token-9c3e51a7d2";
    static final String VIEWER = "viewer-token-4a8f0b2c6e";
    static final String CLIENT = "client-token-1b7d3e9f5a";

    /** Everything the service logs (DEBUG for tuneloop and Quarkus security), scanned for secrets. */
    static final Path LOG = Path.of("target", "logs", "inference-" + ProcessHandle.current().pid() + ".log")
            .toAbsolutePath();

    /**
     * A profile, not resource overrides: a new profile starts a fresh application (its own meter registry and log
     * settings), so the DEBUG log file and auth stay out of the test classes that run after this one.
     */
    public static class AuthOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tuneloop.auth.enabled", "true", "tuneloop.auth.tokens.operator", OPERATOR,
                    "tuneloop.auth.tokens.viewer", VIEWER, "tuneloop.auth.tokens.client", CLIENT,
                    "quarkus.log.file.enabled", "true",
                    "quarkus.log.file.path", LOG.toString(),
                    "quarkus.log.category.\"dev.tuneloop\".level", "DEBUG",
                    "quarkus.log.category.\"io.quarkus.security\".level", "DEBUG",
                    "quarkus.log.category.\"io.quarkus.vertx.http.runtime.security\".level", "DEBUG");
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
    void noSecretInLogsOrHttpAnswers() throws Exception {
        Map<String, String> produced = new LinkedHashMap<>();
        Map<String, Response> calls = new LinkedHashMap<>();
        calls.put("answer", ANSWER.apply(as(CLIENT)));
        calls.put("chat", CHAT.apply(as(OPERATOR)));
        calls.put("models", MODELS.apply(as(CLIENT)));
        calls.put("adapter", ADAPTER.apply(as(VIEWER)));
        calls.put("wrong role", ANSWER.apply(as(VIEWER)));
        calls.put("another service's secret as token", MODELS.apply(as(S3ProxyServer.SECRET_KEY)));
        calls.put("no token", CHAT.apply(given()));
        calls.put("bad body", as(CLIENT).contentType(ContentType.JSON).body("{\"question\": ").post("/v1/answer"));
        calls.put("unknown model", as(CLIENT).contentType(ContentType.JSON)
                .body(InferenceServiceTest.CHAT.formatted("gpt-4", "")).post("/v1/chat/completions"));
        calls.put("metrics", given().get("/q/metrics"));
        calls.put("health", given().get("/q/health"));
        calls.forEach((what, r) -> produced.put("HTTP " + what + " " + r.statusCode(),
                r.getHeaders() + "\n" + r.asString()));
        produced.put("log " + LOG, Files.readString(LOG));
        assertTrue(produced.get("log " + LOG).contains("authentication on: bearer tokens per role"),
                "the log file holds the service's log");

        Map<String, String> secrets = Map.of("S3 secret key", S3ProxyServer.SECRET_KEY, "operator token", OPERATOR,
                "viewer token", VIEWER, "client token", CLIENT);
        List<String> leaks = new ArrayList<>();
        secrets.forEach((name, secret) -> produced.forEach((where, text) -> {
            if (text.contains(secret)) {
                int at = text.indexOf(secret);
                leaks.add(name + " in " + where + ": ..." + text.substring(Math.max(0, at - 120), at) + "<SECRET>");
            }
        }));
        assertEquals(List.of(), leaks);
    }

    @Test
    void healthAndMetricsNeedNoToken() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
        as("stale-token-from-last-year").get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"));
    }
}
