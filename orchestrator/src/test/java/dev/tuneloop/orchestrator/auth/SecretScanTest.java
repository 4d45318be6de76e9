package dev.tuneloop.orchestrator.auth;

import static dev.tuneloop.orchestrator.Events.RUN_BODY;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.TopicSpec;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Topic;
import dev.tuneloop.storage.S3ProxyServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Runs the orchestrator with known secrets (the S3 secret key, the three API tokens, a password in a refused URL)
 * through a workload of commands, refusals, reads and scrapes, then looks for every secret in everything it
 * produced: the log file (DEBUG for tuneloop and Quarkus security), every HTTP body and header, and every record on
 * every tuneloop topic.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
@QuarkusTestResource(BrokerAndStore.class)
class SecretScanTest {
    private static final String URL_PASSWORD = "hunter2-url-password";
    private static final Map<String, String> SECRETS = Map.of(
            "S3 secret key", S3ProxyServer.SECRET_KEY,
            "operator token", AuthOn.OPERATOR,
            "viewer token", AuthOn.VIEWER,
            "client token", AuthOn.CLIENT,
            "password in a URL", URL_PASSWORD);

    private final Map<String, String> produced = new LinkedHashMap<>();

    private void call(String what, RequestSpecification request, java.util.function.Function<RequestSpecification,
            Response> send, int status) {
        Response response = send.apply(request);
        assertEquals(status, response.statusCode(), what + ": " + response.asString());
        produced.put("HTTP " + what, response.getHeaders().toString() + "\n" + response.asString());
    }

    private static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    @Test
    void noSecretInLogsHttpBodiesOrEvents() throws IOException {
        Topic.until("the orchestrator is ready", () -> given().get("/q/health/ready").statusCode() == 200);
        String run = RUN_BODY.formatted("scan-run-1");
        call("create", as(AuthOn.OPERATOR).contentType(ContentType.JSON).body(run), r -> r.post("/runs"), 201);
        call("create again", as(AuthOn.OPERATOR).contentType(ContentType.JSON).body(run), r -> r.post("/runs"), 200);
        call("conflict", as(AuthOn.OPERATOR).contentType(ContentType.JSON).body(run.replace("\"epochs\": 2",
                "\"epochs\": 3")), r -> r.post("/runs"), 409);
        call("credentials in a URL", as(AuthOn.OPERATOR).contentType(ContentType.JSON).body(RUN_BODY
                .formatted("scan-run-2").replace("s3://tuneloop/datasets/squad/train.jsonl",
                        "https://reader:" + URL_PASSWORD + "@data.example.org/train.jsonl")),
                r -> r.post("/runs"), 400);
        call("bad json", as(AuthOn.OPERATOR).contentType(ContentType.JSON).body("{\"runId\": "),
                r -> r.post("/runs"), 400);
        call("no token", given().contentType(ContentType.JSON).body(run), r -> r.post("/runs"), 401);
        call("a token of another service", as(S3ProxyServer.SECRET_KEY), r -> r.get("/runs"), 401);
        call("viewer writes", as(AuthOn.VIEWER).contentType(ContentType.JSON).body(run), r -> r.post("/runs"), 403);
        call("client reads", as(AuthOn.CLIENT), r -> r.get("/runs"), 403);
        call("list", as(AuthOn.VIEWER), r -> r.get("/runs"), 200);
        call("get", as(AuthOn.VIEWER), r -> r.get("/runs/scan-run-1"), 200);
        call("promotions", as(AuthOn.VIEWER), r -> r.get("/promotions"), 200);
        call("promote unknown", as(AuthOn.OPERATOR).contentType(ContentType.JSON)
                .body("{\"runId\": \"scan-run-1\", \"checkpoint\": \"nope\"}"), r -> r.post("/promotions"), 400);
        call("cancel", as(AuthOn.OPERATOR), r -> r.post("/runs/scan-run-1/cancel?reason=scan"), 202);
        call("delete unfinished", as(AuthOn.OPERATOR), r -> r.delete("/runs/scan-run-1"), 409);
        call("metrics", given(), r -> r.get("/q/metrics"), 200);
        call("health", given(), r -> r.get("/q/health"), 200);
        call("openapi", given(), r -> r.get("/q/openapi?format=json"), 200);

        for (TopicSpec topic : Topics.all()) {
            StringBuilder records = new StringBuilder();
            for (ConsumerRecord<byte[], byte[]> r : Topic.read(topic.name())) {
                records.append(r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8)).append(' ')
                        .append(r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8)).append(' ')
                        .append(r.headers()).append('\n');
            }
            produced.put("topic " + topic.name(), records.toString());
        }
        produced.put("log " + AuthOn.LOG, Files.readString(AuthOn.LOG));

        // the scan sees what it should: the workload's traces are there
        assertTrue(produced.get("topic " + Topics.TRAINING_REQUESTED).contains("scan-run-1"));
        assertTrue(produced.get("topic " + Topics.RUN_EVENTS).contains("scan"), "the cancellation event");
        String log = produced.get("log " + AuthOn.LOG);
        assertTrue(log.contains("requested run scan-run-1"), "the log file holds the service's log");

        List<String> leaks = new ArrayList<>();
        SECRETS.forEach((name, secret) -> produced.forEach((where, text) -> {
            if (text.contains(secret)) {
                int at = text.indexOf(secret);
                leaks.add(name + " in " + where + ": ..." + text.substring(Math.max(0, at - 120), at) + "<SECRET>");
            }
        }));
        assertEquals(List.of(), leaks);
        assertTrue(log.contains("accessKey=" + S3ProxyServer.ACCESS_KEY + ", secretKey=****"),
                "the storage settings are logged, masked");
    }
}
