package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.text.ChatMessage;
import dev.tuneloop.model.train.ServingPrompt;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API's behaviour without HTTP: answers equal the CLI's {@link QaAnswerer} with the adapter's own prompt, chats
 * stream the same text they return, stop sequences cut it, and limits and unknown models are refused by name.
 */
class ModelServerTest {
    static final String QUESTION = "Which river flows through Paris?";
    static final String CONTEXT = "Paris lies on the Seine, a river in the north of France.";
    static QaModel qa;
    static Batcher batcher;
    static ModelServer server;
    static ServedAdapter adapterB;
    static List<Long> stopIds;
    /** What a swap would change: the promoted snapshot. */
    static final AtomicReference<ServedAdapter> promoted = new AtomicReference<>();

    @BeforeAll
    static void start() throws Exception {
        TestModels.Models models = TestModels.get();
        qa = QaModel.open(models.modelDir(), Device.cpu());
        stopIds = new ArrayList<>(GenerationConfig.eosIds(models.modelDir(), qa.lm().config()));
        stopIds.add(qa.tokenizer().tokenId("<|im_end|>"));
        batcher = new Batcher(qa.lm(), stopIds, new Batcher.Settings(4, Duration.ofMillis(2), 16, 100_000),
                new SimpleMeterRegistry());
        Path b = models.adapterB();
        adapterB = new ServedAdapter(LoraAdapter.read(qa.lm(), b), ServingPrompt.forAdapter(b),
                TestModels.fakePromotion("qwen-squad", 1), "run-b", Instant.now());
        server = new ModelServer(qa.tokenizer(), batcher, "qwen-squad", promoted::get, promoted::get,
                ServedAdapter.base(Instant.now()), "tiny-base", stopIds, new ModelServer.Limits(512, 32, 16, 12));
    }

    @AfterAll
    static void stop() {
        batcher.close();
        qa.close();
    }

    @Test
    void answersEqualTheCliAnswererOnTheSameAdapterWithItsSavedPrompt() throws Exception {
        ModelServer.Answer base = server.answer(QUESTION, CONTEXT);
        assertSame(server.base(), base.adapter(), "nothing promoted: the base model answers");
        try (QaModel fresh = QaModel.open(TestModels.get().modelDir(), Device.cpu())) {
            ServingPrompt prompt = ServingPrompt.defaults();
            QaAnswerer.Answer want = fresh.answerer(prompt.template(), prompt.maxSeqLen(), 12).answer(QUESTION, CONTEXT);
            assertEquals(new ModelServer.Answer(want.text(), base.adapter(), want.promptTokens(),
                    want.completionTokens()), base);

            fresh.useAdapter(TestModels.get().adapterB());
            prompt = ServingPrompt.forAdapter(TestModels.get().adapterB());
            want = fresh.answerer(prompt.template(), prompt.maxSeqLen(), 12).answer(QUESTION, null);
            promoted.set(adapterB);
            ModelServer.Answer got = server.answer(QUESTION, null); // B's prompt is question-only: no context needed
            assertSame(adapterB, got.adapter());
            assertEquals(want.text(), got.text());
            assertEquals(want.promptTokens(), got.promptTokens());
            assertEquals(want.completionTokens(), got.completionTokens());
            assertNotEquals(base.promptTokens(), got.promptTokens(), "B's saved prompt differs from the default");
        } finally {
            promoted.set(null);
        }
        var e = assertThrows(InvalidRequestException.class, () -> server.answer(QUESTION, null));
        assertEquals("context", e.param(), e.getMessage());
    }

    @Test
    void chatsStreamWhatTheyReturnAndStopSequencesCutTheText() {
        List<ChatMessage> messages = List.of(ChatMessage.user("Name a river."));
        StringBuilder streamed = new StringBuilder();
        ModelServer.ChatResult full = server.chat("tiny-base", new ModelServer.Chat(messages, 20, Sampling.GREEDY,
                List.of()), streamed::append).await();
        assertEquals(full.text(), streamed.toString(), "the deltas add up to the returned text");
        assertEquals(20, full.completionTokens());
        assertEquals(ModelServer.FinishReason.LENGTH, full.finishReason());
        assertTrue(full.text().length() > 4, full.text());

        String stop = full.text().substring(2, 4);
        int cut = full.text().indexOf(stop);
        StringBuilder streamedStop = new StringBuilder();
        ModelServer.ChatResult stopped = server.chat("tiny-base", new ModelServer.Chat(messages, 20,
                Sampling.GREEDY, List.of(stop)), streamedStop::append).await();
        assertEquals(full.text().substring(0, cut), stopped.text());
        assertEquals(stopped.text(), streamedStop.toString(), "nothing of the stop sequence is streamed");
        assertEquals(ModelServer.FinishReason.STOP, stopped.finishReason());
        assertTrue(stopped.completionTokens() < 20, "generation ends at the stop sequence");
    }

    @Test
    void limitsAndUnknownModelsAreRefusedByName() {
        List<ChatMessage> messages = List.of(ChatMessage.user("hi"));
        var e = assertThrows(InvalidRequestException.class, () -> server.chat("tiny-base",
                new ModelServer.Chat(messages, 33, Sampling.GREEDY, List.of()), null));
        assertEquals("max_tokens", e.param());
        assertTrue(e.getMessage().contains("max-tokens 32"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> server.chat("tiny-base",
                new ModelServer.Chat(List.of(ChatMessage.user("word ".repeat(600))), 4, Sampling.GREEDY, List.of()),
                null));
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().contains("max-prompt-tokens 512"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> server.chat("tiny-base",
                new ModelServer.Chat(List.of(ChatMessage.user("a <|im_end|> b")), 4, Sampling.GREEDY, List.of()),
                null));
        assertEquals("messages[0].content", e.param());
        e = assertThrows(InvalidRequestException.class, () -> server.select("gpt-4"));
        assertEquals(404, e.status());
        assertTrue(e.getMessage().contains("gpt-4") && e.getMessage().contains("[qwen-squad, tiny-base]"),
                e.getMessage());
    }
}
