package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests the model server cannot serve: a 400 (413 for a body over the limit) in OpenAI's error shape naming the
 * field and the limit, never a 500 or a stack trace; the service keeps answering afterwards.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
class BadInputTest {
    private static final String CHAT = "{\"model\": \"" + BrokerStoreAndModel.BASE + "\", \"messages\": [{\"role\": "
            + "\"user\", \"content\": \"%s\"}], \"temperature\": 0%s}";

    @BeforeEach
    void ready() {
        InferenceServiceTest.awaitReady();
    }

    @Test
    void maxTokensZeroNegativeHugeOrOverflowingIsA400NamingTheLimit() {
        for (String value : new String[] {"0", "-1", "33", "1000000"}) {
            chat("Name a river.", ", \"max_tokens\": " + value).statusCode(400)
                    .body("error.param", equalTo("max_tokens"))
                    .body("error.message", containsString("max_tokens " + value + " is outside [1, 32] (limit "
                            + "max-tokens 32)"));
        }
        chat("Name a river.", ", \"max_completion_tokens\": 0").statusCode(400)
                .body("error.param", equalTo("max_tokens"));
        chat("Name a river.", ", \"max_tokens\": 99999999999").statusCode(400)
                .body("error.param", equalTo("max_tokens"))
                .body("error.message", containsString("out of range of int"));
        chat("Name a river.", ", \"max_tokens\": 4").statusCode(200); // and the service still answers
    }

    @Test
    void promptsPastTheContextLengthAreA400NamingTheLimit() {
        chat("word ".repeat(1100), ", \"max_tokens\": 4").statusCode(400)
                .body("error.param", equalTo("messages"))
                .body("error.message", containsString("more than the limit max-prompt-tokens 1024"));
        post("/v1/answer", Map.of("question", "word ".repeat(1100), "context", "Paris lies on the Seine."))
                .statusCode(400)
                .body("error.param", equalTo("question"))
                .body("error.message", containsString("but max_seq_len is 1024"));
        post("/v1/answer", Map.of("question", " ", "context", "c")).statusCode(400)
                .body("error.param", equalTo("question"));
    }

    @Test
    void invalidUtf8AndBrokenJsonAreA400WithoutAStackTrace() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes("{\"question\": \"Which river".getBytes(StandardCharsets.UTF_8));
        body.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF});
        body.writeBytes("?\", \"context\": \"Paris lies on the Seine.\"}".getBytes(StandardCharsets.UTF_8));
        given().contentType(ContentType.JSON).body(body.toByteArray()).post("/v1/answer").then()
                .statusCode(400)
                .body("error.code", equalTo("invalid_json"))
                .body("error.message", containsString("UTF-8"))
                .body(not(containsString("\tat ")));
        given().contentType(ContentType.JSON).body("{\"question\": ").post("/v1/answer").then().statusCode(400)
                .body("error.type", equalTo("invalid_request_error"));
        given().contentType(ContentType.JSON).body("").post("/v1/chat/completions").then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"model\": \"tiny-base\", \"stop\": " + "[".repeat(5000))
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.code", equalTo("invalid_json"))
                .body("error.message", containsString("nesting depth"));
        given().contentType(ContentType.JSON).body("{\"model\": \"tiny-base\", \"messages\": 7}")
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("messages"));
    }

    @Test
    void unknownFieldsAreRefusedByNameAtAnyDepthAndDocumentedOpenAiFieldsAreIgnored() {
        given().contentType(ContentType.JSON).body("{\"model\": \"tiny-base\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"hi\", \"colour\": \"red\"}], \"max_tokens\": 2}")
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("messages[0].colour"))
                .body("error.code", equalTo("unknown_field"));
        chat("Name a river.", ", \"max_tokens\": 2, \"temprature\": 0.5").statusCode(400)
                .body("error.param", equalTo("temprature"))
                .body("error.message", containsString("known fields here"));
        chat("Name a river.", ", \"max_tokens\": 2, \"user\": \"u-1\", \"metadata\": {\"k\": \"v\"}")
                .statusCode(200);
    }

    private static ValidatableResponse chat(String content, String extra) {
        return given().contentType(ContentType.JSON).body(String.format(CHAT, content, extra))
                .post("/v1/chat/completions").then().body(not(containsString("\tat ")));
    }

    private static ValidatableResponse post(String path, Map<String, String> body) {
        return given().contentType(ContentType.JSON).body(body).post(path).then().body(not(containsString("\tat ")));
    }
}
