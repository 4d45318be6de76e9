package dev.tuneloop.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QwenTokenizerTest {

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
    void everyGoldenStringEncodesToTheHuggingFaceIdsAndDecodesBack() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(Shared.path("fixtures/tokenizer-golden.json").toFile());
        JsonNode cases = golden.get("cases");
        assertEquals(18, cases.size(), "golden cases");
        for (JsonNode c : cases) {
            String text = c.get("text").textValue();
            long[] expected = new long[c.get("ids").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = c.get("ids").get(i).longValue();
            }
            assertArrayEquals(expected, tokenizer.encode(text), () -> "ids of " + text);
            if (c.get("roundtrip").booleanValue()) {
                assertEquals(text, tokenizer.decode(expected), "decode of the ids of " + text);
            }
        }
    }

    @Test
    void chatMarkersHaveQwenIds() {
        assertEquals(151643, tokenizer.tokenId("<|endoftext|>"));
        assertEquals(151644, tokenizer.tokenId("<|im_start|>"));
        assertEquals(151645, tokenizer.tokenId("<|im_end|>"));
        assertEquals(9707, tokenizer.tokenId("Hello"));
        assertTrue(tokenizer.isSpecial(151645));
        assertFalse(tokenizer.isSpecial(151657), "<tool_call> is an added token but not special in Qwen2.5");
        assertEquals(14, tokenizer.specialTokens().size(), "special added tokens 151643..151656");
        assertEquals(151665, tokenizer.vocabSize(), "151,643 BPE tokens + 22 added tokens");
    }

    @Test
    void tokenIdRejectsTextThatIsNotOneToken() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.tokenId("Hello, world"));
        assertTrue(e.getMessage().contains("3 ids"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tokenizer.tokenId(""));
    }

    @Test
    void longInputIsNotTruncatedAt512() throws IOException {
        StringBuilder text = new StringBuilder();
        for (String line : Files.readAllLines(Shared.squad("dev-12-articles.jsonl"))) {
            String context = new ObjectMapper().readTree(line).get("context").textValue();
            if (text.indexOf(context) < 0) {
                text.append(context).append("\n\n");
            }
            if (text.length() > 20_000) {
                break;
            }
        }
        long[] ids = tokenizer.encode(text.toString());
        assertTrue(ids.length > 3000, "expected > 3000 tokens, got " + ids.length);
        assertEquals(text.toString(), tokenizer.decode(ids));
    }

    @Test
    void decodeSkippingSpecialDropsChatMarkersOnly() {
        long[] ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>\n<tool_call><|endoftext|>");
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<tool_call><|endoftext|>", tokenizer.decode(ids));
        assertEquals("user\nHi\n<tool_call>", tokenizer.decodeSkippingSpecial(ids));
    }

    @Test
    void paddingRowsOfTheEmbeddingDecodeToNothing() {
        assertEquals("Hello", tokenizer.decode(new long[] {9707, 151700, 151935}));
    }

    @Test
    void negativeIdsAreRejectedNotDropped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.decode(new long[] {9707, -100}));
        assertTrue(e.getMessage().contains("-100") && e.getMessage().contains("position 1"), e.getMessage());
    }

    @Test
    void concurrentEncodingGivesTheSameIdsAsSequential() throws Exception {
        List<String> texts = new ArrayList<>();
        List<String> lines = Files.readAllLines(Shared.squad("dev-12-articles.jsonl"));
        ObjectMapper mapper = new ObjectMapper();
        for (int i = 0; i < 400; i++) {
            JsonNode row = mapper.readTree(lines.get(i));
            texts.add(row.get("question").textValue() + " " + row.get("context").textValue());
        }
        List<long[]> expected = texts.stream().map(tokenizer::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    int checked = 0;
                    for (int i = 0; i < texts.size(); i++) {
                        int k = (i + offset * 100) % texts.size();
                        assertArrayEquals(expected.get(k), tokenizer.encode(texts.get(k)), "text " + k);
                        assertEquals(texts.get(k), tokenizer.decode(expected.get(k)));
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> r : results) {
                assertEquals(texts.size(), r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void missingTokenizerFileNamesTheFolder(@TempDir Path dir) {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> QwenTokenizer.load(dir));
        assertTrue(e.getMessage().contains("no tokenizer.json in model folder " + dir.toAbsolutePath()), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> QwenTokenizer.load(dir.resolve("absent")));
    }

    @Test
    void malformedTokenizerFileIsNamed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"added_tokens\": [], \"model\": {\"vocab\": {\"a\": 0, ");
        IOException e = assertThrows(IOException.class, () -> QwenTokenizer.load(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
