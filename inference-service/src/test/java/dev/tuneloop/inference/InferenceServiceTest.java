package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.text.ChatMessage;
import dev.tuneloop.model.text.ChatTemplate;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.storage.ObjectStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The service on a real in-JVM Kafka broker and S3 server with the tiny model: nothing promoted → the base model
 * answers with {@code adapter: null}; an {@code AdapterPromoted} event → the adapter from S3 serves, with the greedy
 * tokens {@link Generator} gives in-process; a corrupt promotion is refused while the adapter keeps serving; the
 * OpenAI API's shapes and refusals.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceServiceTest {
    static final String QUESTION = "Which river flows through Paris?";
    static final String CONTEXT = "Paris lies on the Seine, a river in the north of France.";
    static final String CHAT = "{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"Name a river.\"}],"
            + " \"max_tokens\": 10, \"temperature\": 0%s}";

    @Test
    @Order(1)
    void readyWithTheBaseModelAndNoAdapterBeforeAnyPromotion() {
        awaitReady();
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks[0].data.promotionsRead", equalTo(true));
        given().get("/v1/adapter").then().statusCode(200)
                .body("served_model", equalTo(BrokerStoreAndModel.SERVED))
                .body("base_model", equalTo(BrokerStoreAndModel.BASE))
                .body("adapter", nullValue());
        given().contentType(ContentType.JSON).body(Map.of("question", QUESTION, "context", CONTEXT))
                .post("/v1/answer").then().statusCode(200)
                .body("adapter", nullValue())
                .body("usage.prompt_tokens", equalTo(answerPrompt(ServingPrompt.defaults()).length));
    }

    @Test
    @Order(2)
    void aPromotedAdapterServesAndAnswersWithTheGreedyTokensOfTheGeneratorInProcess() throws Exception {
        AdapterPromoted promotion;
        try (ObjectStore store = BrokerStoreAndModel.store()) {
            promotion = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/run-a/ckpt-1/",
                    BrokerStoreAndModel.SERVED, 1, 71.5);
        }
        BrokerStoreAndModel.publish("run-a", promotion);
        awaitGeneration(1);
        JsonPath adapter = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals("run-a", adapter.getString("adapter.run"));
        assertEquals("checkpoint-1", adapter.getString("adapter.checkpoint"));
        assertEquals(promotion.files().get(AdapterFiles.WEIGHTS).sha256(),
                adapter.getString("adapter.files.'adapter_model.safetensors'"));
        assertTrue(adapter.getString("since") != null, adapter.prettify());

        JsonPath answer = given().contentType(ContentType.JSON).body(Map.of("question", QUESTION, "context", CONTEXT))
                .post("/v1/answer").then().statusCode(200).extract().jsonPath();
        assertEquals(Map.of("run", "run-a", "checkpoint", "checkpoint-1", "f1", 71.5f), answer.getMap("adapter"));

        try (QaModel reference = QaModel.open(TestModels.get().modelDir(), Device.cpu())) {
            reference.useAdapter(TestModels.get().adapterA());
            long[] prompt = answerPrompt(ServingPrompt.defaults());
            long[] ids = new Generator(reference.lm(), stopIds(reference)).greedy(prompt, 12);
            assertEquals(reference.tokenizer().decodeSkippingSpecial(ids).strip(), answer.getString("answer"));
            assertEquals(prompt.length, answer.getInt("usage.prompt_tokens"));
            assertEquals(ids.length, answer.getInt("usage.completion_tokens"));

            // The chat API on the served name uses the same adapter (ChatML prompt, greedy at temperature 0).
            long[] chatPrompt = reference.tokenizer().encode(ChatTemplate.render(
                    List.of(ChatMessage.user("Name a river.")), true));
            long[] chatIds = new Generator(reference.lm(), stopIds(reference)).greedy(chatPrompt, 10);
            JsonPath chat = chat(BrokerStoreAndModel.SERVED, "").then().statusCode(200).extract().jsonPath();
            assertEquals(reference.tokenizer().decodeSkippingSpecial(chatIds), chat.getString("choices[0].message.content"));
            assertEquals(chatIds.length, chat.getInt("usage.completion_tokens"));
            assertEquals("tuneloop-gen1-run-a-checkpoint-1", chat.getString("system_fingerprint"));
        }
    }

    @Test
    @Order(3)
    void chatCompletionsPlainAndStreamedHaveOpenAisShapes() {
        JsonPath plain = chat(BrokerStoreAndModel.BASE, "").then().statusCode(200)
                .contentType(ContentType.JSON).extract().jsonPath();
        assertEquals("chat.completion", plain.getString("object"));
        assertTrue(plain.getString("id").startsWith("chatcmpl-"));
        assertEquals(BrokerStoreAndModel.BASE, plain.getString("model"));
        assertEquals("tuneloop-base", plain.getString("system_fingerprint"), "the base name serves the base model");
        assertEquals("assistant", plain.getString("choices[0].message.role"));
        assertTrue(List.of("stop", "length").contains(plain.getString("choices[0].finish_reason")));
        assertEquals(plain.getInt("usage.prompt_tokens") + plain.getInt("usage.completion_tokens"),
                plain.getInt("usage.total_tokens"));

        Response streamed = chat(BrokerStoreAndModel.BASE, ", \"stream\": true");
        streamed.then().statusCode(200).contentType(containsString("text/event-stream"));
        List<String> events = new ArrayList<>();
        for (String line : streamed.asString().split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(line.substring(6));
            }
        }
        assertEquals("[DONE]", events.get(events.size() - 1), streamed.asString());
        JsonPath first = JsonPath.from(events.get(0));
        assertEquals("chat.completion.chunk", first.getString("object"));
        assertEquals("assistant", first.getString("choices[0].delta.role"));
        StringBuilder content = new StringBuilder();
        for (String event : events.subList(1, events.size() - 2)) {
            JsonPath chunk = JsonPath.from(event);
            assertEquals(first.getString("id"), chunk.getString("id"));
            assertEquals(null, chunk.getString("choices[0].finish_reason"));
            content.append(chunk.getString("choices[0].delta.content"));
        }
        JsonPath last = JsonPath.from(events.get(events.size() - 2));
        assertEquals(plain.getString("choices[0].finish_reason"), last.getString("choices[0].finish_reason"));
        assertEquals(plain.getString("choices[0].message.content"), content.toString(),
                "the streamed deltas add up to the plain completion (greedy)");

        given().get("/v1/models").then().statusCode(200).body("object", equalTo("list"))
                .body("data.id", equalTo(List.of(BrokerStoreAndModel.SERVED, BrokerStoreAndModel.BASE)));
    }

    @Test
    @Order(4)
    void refusalsNameTheFieldTheModelsOrTheLimit() {
        chat(BrokerStoreAndModel.SERVED, ", \"bogus\": 1").then().statusCode(400)
                .body("error.param", equalTo("bogus")).body("error.message", containsString("bogus"));
        given().contentType(ContentType.JSON).body(Map.of("question", QUESTION, "contxt", CONTEXT))
                .post("/v1/answer").then().statusCode(400).body("error.param", equalTo("contxt"));
        chat(BrokerStoreAndModel.SERVED, ", \"user\": \"someone\", \"stream_options\": {\"include_usage\": true}")
                .then().statusCode(200); // documented OpenAI fields without effect here are ignored
        chat(BrokerStoreAndModel.SERVED, ", \"n\": 2").then().statusCode(400).body("error.param", equalTo("n"));
        chat("gpt-4o", "").then().statusCode(404).body("error.param", equalTo("model"))
                .body("error.message", containsString("[" + BrokerStoreAndModel.SERVED + ", "
                        + BrokerStoreAndModel.BASE + "]"));
        given().contentType(ContentType.JSON).body(String.format(CHAT, BrokerStoreAndModel.SERVED, "")
                        .replace("\"max_tokens\": 10", "\"max_tokens\": 33"))
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("max_tokens"))
                .body("error.message", containsString("max-tokens 32"));
        String big = "x".repeat((int) BrokerStoreAndModel.MAX_BODY_BYTES);
        given().contentType(ContentType.JSON).body(Map.of("question", big, "context", CONTEXT))
                .post("/v1/answer").then().statusCode(413)
                .body("error.message", containsString("max-body-bytes " + BrokerStoreAndModel.MAX_BODY_BYTES));
    }

    @Test
    @Order(5)
    void aCorruptPromotionIsRefusedAndThePreviousAdapterKeepsServing() throws Exception {
        AdapterPromoted promotion;
        try (ObjectStore store = BrokerStoreAndModel.store()) {
            promotion = TestModels.upload(store, TestModels.get().adapterB(), "s3://tuneloop/runs/run-b/ckpt-2/",
                    BrokerStoreAndModel.SERVED, 2, 80.0);
        }
        Map<String, StoredObject> files = new TreeMap<>(promotion.files());
        StoredObject weights = files.get(AdapterFiles.WEIGHTS);
        files.put(AdapterFiles.WEIGHTS, new StoredObject(weights.uri(), "0".repeat(64), weights.size()));
        BrokerStoreAndModel.publish("run-b", TestModels.promotion(BrokerStoreAndModel.SERVED, 2, files, 80.0));
        long deadline = System.currentTimeMillis() + 30_000;
        JsonPath status;
        do {
            Thread.sleep(100);
            status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        } while (status.get("last_refusal") == null && System.currentTimeMillis() < deadline);
        assertEquals("CHECKSUM", status.getString("last_refusal.reason"), status.prettify());
        assertEquals(2, status.getInt("last_refusal.generation"));
        assertEquals(1, status.getInt("adapter.generation"), "the previous adapter keeps serving");
        assertEquals(1.0, status.getDouble("failed_swaps"));
        given().contentType(ContentType.JSON).body(Map.of("question", QUESTION, "context", CONTEXT))
                .post("/v1/answer").then().statusCode(200).body("adapter.run", equalTo("run-a"));

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : List.of("tuneloop_inference_adapter_swaps_total 1.0",
                "tuneloop_inference_adapter_swap_failures_total{reason=\"checksum\"} 1.0",
                "tuneloop_inference_queue_depth", "tuneloop_inference_generated_tokens_total",
                "tuneloop_inference_request_seconds_bucket{endpoint=\"answer\"",
                "tuneloop_inference_tokens_per_second")) {
            assertTrue(metrics.contains(line), "metrics lack " + line);
        }
    }

    static Response chat(String model, String extra) {
        return given().contentType(ContentType.JSON).body(String.format(CHAT, model, extra))
                .post("/v1/chat/completions");
    }

    static long[] answerPrompt(ServingPrompt prompt) {
        try (QaModel tokens = QaModel.open(TestModels.get().modelDir(), Device.cpu())) {
            return new ExampleEncoder(tokens.tokenizer(), prompt.template(), prompt.maxSeqLen())
                    .encodePrompt(QUESTION, CONTEXT, 12);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Long> stopIds(QaModel model) throws java.io.IOException {
        List<Long> ids = new ArrayList<>(GenerationConfig.eosIds(model.modelDir(), model.lm().config()));
        ids.add(model.tokenizer().tokenId(ChatTemplate.IM_END));
        return ids;
    }

    static void awaitReady() {
        long deadline = System.currentTimeMillis() + 120_000;
        while (given().get("/q/health/ready").statusCode() != 200) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not ready after 120 s: " + given().get("/q/health/ready").asString());
            }
            sleep(100);
        }
    }

    static void awaitGeneration(long generation) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            JsonPath status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
            if (status.get("adapter") != null && status.getLong("adapter.generation") == generation) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("generation " + generation + " not served after 30 s: " + status.prettify());
            }
            sleep(100);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
