package dev.tuneloop.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Expected strings are Qwen2.5's tokenizer_config.json chat_template rendered with jinja2 (no tools). */
class ChatTemplateTest {

    private static QwenTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = QwenTokenizer.load(Shared.qwenTokenizerDir());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void systemAndUserWithGenerationPrompt() {
        String rendered = ChatTemplate.render(
                List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi there")), true);
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
                + "<|im_start|>assistant\n", rendered);
        // The markers are single ids and split the text, so the ids are the pieces' ids in order.
        long[] expected = concat(new long[] {151644}, tokenizer.encode("system\nBe brief."), new long[] {151645},
                tokenizer.encode("\n"), new long[] {151644}, tokenizer.encode("user\nHi there"), new long[] {151645},
                tokenizer.encode("\n"), new long[] {151644}, tokenizer.encode("assistant\n"));
        assertArrayEquals(expected, tokenizer.encode(rendered));
    }

    @Test
    void defaultSystemPromptIsInsertedAndMatchesTheGoldenChatMl() {
        String rendered = ChatTemplate.render(List.of(ChatMessage.user("Who wrote Hamlet?")), true);
        // fixtures/tokenizer-golden.json case 15, tokenized by Hugging Face.
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                + "<|im_end|>\n<|im_start|>user\nWho wrote Hamlet?<|im_end|>\n<|im_start|>assistant\n", rendered);
        assertArrayEquals(new long[] {151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13,
                1446, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 15191, 6139, 9582, 1149, 30, 151645,
                198, 151644, 77091, 198}, tokenizer.encode(rendered));
    }

    @Test
    void assistantTurnWithoutGenerationPrompt() {
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                        + "<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n",
                ChatTemplate.render(List.of(ChatMessage.user("Q"), ChatMessage.assistant("A")), false));
    }

    @Test
    void laterSystemMessageIsAnOrdinaryTurn() {
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
                        + "A<|im_end|>\n<|im_start|>system\nS2<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                ChatTemplate.render(List.of(ChatMessage.system("S"), ChatMessage.user("Q"),
                        ChatMessage.assistant("A"), ChatMessage.system("S2"), ChatMessage.user("Q2")), true));
    }

    @Test
    void rejectsEmptyChatsAndUnsupportedRoles() {
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.render(List.of(), true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ChatMessage("tool", "{}"));
        assertEquals("chat message role 'tool' is not supported; expected one of system, user, assistant",
                e.getMessage());
    }

    private static long[] concat(long[]... parts) {
        return Arrays.stream(parts).flatMapToLong(LongStream::of).toArray();
    }
}
