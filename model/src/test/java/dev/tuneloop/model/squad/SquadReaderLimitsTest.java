package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bounds of the dataset reader: file size, nesting, the answer search, and a SQuAD JSON of another version. */
class SquadReaderLimitsTest {
    private static final String LINE = "{\"context\": \"c\", \"question\": \"Q?\", \"answers\": [{\"text\": \"c\"}]}\n";

    @Test
    void aFileLargerThanTheSizeLimitFailsNamingTheLimitBeforeItIsReadToTheEnd() {
        // an endless stream of valid lines: the reader must stop at the limit, not read (or buffer) everything
        InputStream endless = new InputStream() {
            private final byte[] line = LINE.getBytes(StandardCharsets.UTF_8);
            private long served;

            @Override
            public int read() {
                return line[(int) (served++ % line.length)];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                for (int i = 0; i < len; i++) {
                    b[off + i] = line[(int) (served++ % line.length)];
                }
                return len;
            }
        };
        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(endless, "s3://tuneloop/datasets/endless.jsonl", OnBadRecord.SKIP, 1 << 20));
        assertEquals("s3://tuneloop/datasets/endless.jsonl is larger than 1048576 bytes, the dataset size limit "
                + "(SquadReader.MAX_FILE_BYTES): split it, or sample it with --train-limit from a smaller file",
                e.getMessage());
        assertEquals(1L << 30, SquadReader.MAX_FILE_BYTES);
    }

    @Test
    void aFileJustUnderTheLimitIsRead() throws IOException {
        byte[] content = LINE.repeat(1000).getBytes(StandardCharsets.UTF_8);
        SquadData data = SquadReader.read(new ByteArrayInputStream(content), "ok.jsonl", OnBadRecord.FAIL,
                content.length);
        assertEquals(1000, data.examples().size());
    }

    @Test
    void deepNestingIsABadRecordOrAMalformedFileNotAStackOverflow() throws IOException {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        SquadData data = SquadReader.read(bytes(LINE + "{\"context\": " + deep + "}\n"), "deep.jsonl",
                OnBadRecord.SKIP);
        assertEquals(1, data.examples().size());
        assertEquals(2L, data.badRecords().get(0).lineOrIndex());
        assertTrue(data.badRecords().get(0).reason().startsWith("malformed JSON"), data.badRecords().toString());
        assertTrue(data.badRecords().get(0).reason().contains("nesting depth"), data.badRecords().toString());

        SquadDataException e = assertThrows(SquadDataException.class, () -> SquadReader.read(
                bytes("{\"data\": " + deep + "}"), "deep.json", OnBadRecord.SKIP));
        assertTrue(e.getMessage().startsWith("deep.json"), e.getMessage());
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
    }

    @Test
    void aWrongAnswerStartInAHugeRepetitiveContextIsSearchedInLinearTime() {
        // 1M occurrences of the answer in a non-Latin-1 string: counting code points from the start for each
        // occurrence was ~10^11 steps
        String context = "\u20AC" + "a".repeat(1_000_000);
        String record = "{\"context\": \"" + context + "\", \"question\": \"Q?\", \"answers\": [{\"text\": \"a\", "
                + "\"answer_start\": -7}]}\n";
        SquadData data = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> SquadReader.read(bytes(record), "repetitive.jsonl", OnBadRecord.SKIP));
        assertEquals(List.of(1), data.examples().get(0).answerStarts());
        assertTrue(data.warnings().get(0).reason().startsWith("answer_start mismatch"), data.warnings().toString());

        // a long answer whose answer_start is wrong is not searched for (the search would be quadratic)
        String longAnswer = "a".repeat(RecordFields.MAX_SEARCHED_ANSWER_CHARS + 1) + "b";
        String lying = "{\"context\": \"" + context + "b\", \"question\": \"Q?\", \"answers\": [{\"text\": \""
                + longAnswer + "\", \"answer_start\": 3}]}\n";
        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(bytes(lying), "lying.jsonl", OnBadRecord.FAIL));
        assertTrue(e.getMessage().startsWith("lying.jsonl line 1: answer not at answer_start: answers[0]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("longer than 1000 characters is not searched"), e.getMessage());
    }

    @Test
    void aSquadJsonOfAnotherVersionIsReadAsV11WithAWarningAndUnanswerableQuestionsAreBadRecords()
            throws IOException {
        String v2 = """
                {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "Paris is in France.", "qas": [
                  {"id": "a", "question": "Where is Paris?", "answers": [{"text": "France", "answer_start": 12}],
                   "is_impossible": false},
                  {"id": "b", "question": "Where is Rome?", "answers": [], "is_impossible": true,
                   "plausible_answers": [{"text": "France", "answer_start": 12}]}]}]}]}
                """;
        SquadData data = SquadReader.read(bytes(v2), "train-v2.0.json", OnBadRecord.SKIP);
        assertEquals(List.of("a"), data.examples().stream().map(SquadExample::id).toList());
        assertEquals(1, data.badRecords().size());
        assertEquals("no answers at data[0].paragraphs[0].qas[1]", data.badRecords().get(0).reason());
        assertEquals("\"version\" is \"v2.0\", expected \"1.1\": read as SQuAD v1.1 (questions without answers are "
                + "bad records)", data.warnings().get(0).reason());

        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(bytes(v2), "train-v2.0.json", OnBadRecord.FAIL));
        assertEquals("train-v2.0.json record 1: no answers at data[0].paragraphs[0].qas[1]", e.getMessage());

        // the right version, the wrong shape
        e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(bytes("{\"version\": \"1.1\", \"data\": {\"title\": \"T\"}}"), "shape.json",
                        OnBadRecord.SKIP));
        assertTrue(e.getMessage().startsWith("shape.json"), e.getMessage());
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
