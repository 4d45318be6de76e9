package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java SDK ({@code com.openai:openai-java}) used as a user would, with the service's
 * {@code /v1} as its base URL: it lists the models, gets a plain greedy completion (max tokens, stop sequence), a
 * streamed one whose chunks the SDK's accumulator adds up to the plain text, and its typed 404 for an unknown model.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
class OpenAiSdkTest {
    static final String PROMPT = "Tell me about the rivers of France.";

    @TestHTTPResource("/v1")
    URL baseUrl;

    OpenAIClient client;

    @BeforeEach
    void connect() {
        InferenceServiceTest.awaitReady();
        client = OpenAIOkHttpClient.builder().baseUrl(baseUrl.toString()).apiKey("not-checked")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).build();
    }

    @AfterEach
    void close() {
        client.close();
    }

    static ChatCompletionCreateParams.Builder greedy(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(PROMPT).temperature(0.0);
    }

    @Test
    void listsTheServedAndTheBaseModel() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();
        assertEquals(List.of(BrokerStoreAndModel.SERVED, BrokerStoreAndModel.BASE), ids);
    }

    @Test
    void plainGreedyCompletionWithMaxTokensAndAStopSequence() {
        ChatCompletion full = client.chat().completions().create(greedy(BrokerStoreAndModel.BASE)
                .maxCompletionTokens(16).build());
        assertEquals(BrokerStoreAndModel.BASE, full.model());
        ChatCompletion.Choice choice = full.choices().get(0);
        String text = choice.message().content().orElseThrow();
        long completionTokens = full.usage().orElseThrow().completionTokens();
        assertTrue(completionTokens >= 1 && completionTokens <= 16, "max_completion_tokens 16: " + completionTokens);
        if (completionTokens == 16) {
            assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        }
        assertTrue(text.length() >= 4, "the tiny model's greedy text is long enough to hold a stop sequence: '"
                + text + "'");

        // A stop sequence taken from the middle of that text: greedy again, the text ends right before it.
        String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
        ChatCompletion stopped = client.chat().completions().create(greedy(BrokerStoreAndModel.BASE)
                .maxTokens(16).stop(stop).build());
        assertEquals(text.substring(0, text.indexOf(stop)), stopped.choices().get(0).message().content().orElseThrow(),
                "stop '" + stop + "' in '" + text + "'");
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, stopped.choices().get(0).finishReason());
        assertTrue(stopped.usage().orElseThrow().completionTokens() < completionTokens);
    }

    @Test
    void streamedChunksAccumulateToThePlainCompletion() {
        ChatCompletionCreateParams params = greedy(BrokerStoreAndModel.SERVED).maxCompletionTokens(12).build();
        ChatCompletion plain = client.chat().completions().create(params);
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                accumulator.accumulate(chunk);
                chunks++;
            }
        }
        ChatCompletion streamed = accumulator.chatCompletion();
        assertTrue(chunks >= 3, "role, at least one content chunk and the finish chunk: " + chunks);
        assertEquals(plain.choices().get(0).message().content().orElseThrow(),
                streamed.choices().get(0).message().content().orElseThrow(), "greedy: streamed text = plain text");
        assertEquals(plain.choices().get(0).finishReason(), streamed.choices().get(0).finishReason());
        assertEquals(plain.systemFingerprint(), streamed.systemFingerprint(), "the same adapter answered both");
    }

    @Test
    void anUnknownModelIsTheSdksNotFoundNamingTheKnownModels() {
        NotFoundException e = assertThrows(NotFoundException.class,
                () -> client.chat().completions().create(greedy("gpt-4o").maxTokens(4).build()));
        assertEquals(404, e.statusCode());
        assertEquals("model", e.param().orElse(null));
        assertTrue(e.getMessage().contains("gpt-4o") && e.getMessage().contains(BrokerStoreAndModel.SERVED)
                && e.getMessage().contains(BrokerStoreAndModel.BASE), e.getMessage());
    }
}
