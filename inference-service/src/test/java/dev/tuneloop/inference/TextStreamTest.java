package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.text.QwenTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Streamed text is final when emitted: no half characters, no piece of a stop sequence, nothing after one. */
class TextStreamTest {
    static QwenTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = QwenTokenizer.load(TestModels.tokenizerDir());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void multiByteCharactersSplitOverTokensAreEmittedWhole() {
        String text = "Ça coule 🧑‍🚀 sous le pont — 東京";
        long[] ids = tokenizer.encode(text);
        assertTrue(ids.length > text.codePointCount(0, text.length()) / 2, "the emoji spans several byte tokens");
        TextStream stream = new TextStream(tokenizer, List.of());
        StringBuilder out = new StringBuilder();
        for (long id : ids) {
            String delta = stream.push(id);
            assertFalse(delta.contains("\uFFFD"), "half a character was emitted: " + delta);
            out.append(delta);
        }
        out.append(stream.finish());
        assertEquals(text, out.toString());
    }

    @Test
    void aStopSequenceAcrossTokensIsHeldBackAndCut() {
        String text = "The answer is the Seine.\nQuestion: next";
        long[] ids = tokenizer.encode(text);
        TextStream stream = new TextStream(tokenizer, List.of("\nQuestion:", "never"));
        List<String> deltas = new ArrayList<>();
        int consumed = 0;
        for (long id : ids) {
            consumed++;
            deltas.add(stream.push(id));
            if (stream.stopped()) {
                break;
            }
        }
        assertTrue(stream.stopped());
        assertTrue(consumed < ids.length, "generation ends at the stop sequence, before the rest");
        assertEquals("The answer is the Seine.", String.join("", deltas) + stream.finish());
        assertEquals("The answer is the Seine.", stream.text());
        assertTrue(deltas.stream().noneMatch(d -> d.contains("\n")), "no part of the stop sequence is emitted");
    }
}
