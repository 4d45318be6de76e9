package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SquadReaderTest {
    private static final String CONTEXT = "Denver Broncos defeated the Carolina Panthers 24-10 in Santa Clara.";

    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static String line(String fields) {
        return "{" + fields + "}\n";
    }

    @Test
    void officialLayoutWithUnknownFieldsAndVersionFirst() throws IOException {
        Path file = write("tiny.jsonl", """
                {"version": "1.1", "extra": {"x": [1, 2]}, "data": [
                  {"title": "Super_Bowl_50", "id": 7, "paragraphs": [
                    {"qas": [
                      {"id": "q1", "question": "Who won?", "is_impossible": false,
                       "answers": [{"text": "Denver Broncos", "answer_start": 0},
                                   {"text": "Broncos", "answer_start": 7, "extra": 1}]},
                      {"id": "q2", "question": "Where?", "answers": [{"text": "Santa Clara", "answer_start": 55}]}],
                     "context": "%s"}]},
                  {"paragraphs": [{"context": "Q-only", "qas": [
                      {"question": "No id here?", "answers": [{"text": "Q-only", "answer_start": 0}]}]}]}]}
                """.formatted(CONTEXT));
        SquadData data = SquadReader.read(file, OnBadRecord.FAIL);
        // recognised by content although the file is named .jsonl
        assertEquals(SquadData.SQUAD_JSON, data.format());
        assertEquals(3, data.examples().size());
        SquadExample q1 = data.examples().get(0);
        assertEquals("q1", q1.id());
        assertEquals("Super_Bowl_50", q1.title());
        assertEquals(CONTEXT, q1.context());
        assertEquals(List.of("Denver Broncos", "Broncos"), q1.answers());
        assertEquals(List.of(0, 7), q1.answerStarts());
        assertEquals(List.of(55), data.examples().get(1).answerStarts());
        SquadExample third = data.examples().get(2);
        assertEquals("tiny-2", third.id(), "synthesized from the file stem and the question index");
        assertNull(third.title());
        assertEquals(List.of(), data.badRecords());
        assertEquals(List.of(), data.warnings());
    }

    @Test
    void jsonLinesWithExtraFieldsBlankLinesAndCrlf() throws IOException {
        Path file = write("part.json",
                line("\"id\": \"a\", \"title\": \"T\", \"context\": \"" + CONTEXT + "\", \"question\": \"Who?\", "
                        + "\"answers\": [{\"text\": \"Denver Broncos\", \"answer_start\": 0}], "
                        + "\"answer_start_method\": [\"unique_match\"]").replace("\n", "\r\n")
                + "\n   \n"
                + line("\"context\": \"\", \"question\": \"Closed book?\", \"answers\": [{\"text\": \"yes\"}]")
                + line("\"id\": 12, \"context\": \"x\", \"question\": \"HF export?\", "
                        + "\"answers\": {\"text\": [\"x\", \"x\"], \"answer_start\": [0, 0]}"));
        SquadData data = SquadReader.read(file, OnBadRecord.FAIL);
        assertEquals(SquadData.JSON_LINES, data.format());
        assertEquals(3, data.examples().size());
        assertEquals("a", data.examples().get(0).id());
        assertEquals("T", data.examples().get(0).title());
        SquadExample closedBook = data.examples().get(1);
        assertEquals("part-4", closedBook.id(), "no id: file stem + line number");
        assertEquals("", closedBook.context());
        assertEquals(List.of(-1), closedBook.answerStarts());
        assertEquals("12", data.examples().get(2).id());
        assertEquals(List.of(0, 0), data.examples().get(2).answerStarts());
    }

    @Test
    void flatArrayTakesAnswerAndIgnoresThePhraseFields() throws IOException {
        Path file = write("multifactor.json", """
                [
                  {"id": "m1", "question": "Who won?", "context": "%s", "answer": "Denver Broncos",
                   "p_phrase": "won", "n_phrase": "lost", "full answer": "The Denver Broncos won.", "score": 0.5},
                  {"question": "Where?", "context": "%s", "answer": "Santa Clara",
                   "p_phrase": "", "n_phrase": "", "full answer": "In Santa Clara."}
                ]
                """.formatted(CONTEXT, CONTEXT));
        SquadData data = SquadReader.read(file, OnBadRecord.FAIL);
        assertEquals(SquadData.FLAT_ARRAY, data.format());
        assertEquals(List.of("m1", "multifactor-1"), data.examples().stream().map(SquadExample::id).toList());
        assertEquals(List.of("Denver Broncos"), data.examples().get(0).answers());
        assertEquals(List.of(-1), data.examples().get(0).answerStarts());
        assertEquals(List.of("Santa Clara"), data.examples().get(1).answers());
    }

    @Test
    void eachBadJsonLinesRecordIsReportedWithItsLine() throws IOException {
        String ok = "\"context\": \"" + CONTEXT + "\", \"question\": \"Q?\", ";
        Path file = write("bad.jsonl",
                line("\"id\": \"a\", " + ok + "\"answers\": [{\"text\": \"Broncos\", \"answer_start\": 7}]")
                + "{\"id\": \"b\", \"question\": \n"
                + line("\"id\": \"c\", \"context\": \"x\", \"answers\": [{\"text\": \"x\"}]")
                + line("\"id\": \"d\", \"context\": \"x\", \"question\": 5, \"answers\": [{\"text\": \"x\"}]")
                + line("\"id\": \"e\", \"context\": \"x\", \"question\": \" \u00A0\", \"answers\": [{\"text\": \"x\"}]")
                + line("\"id\": \"f\", " + ok + "\"answers\": [{\"text\": \" \", \"answer_start\": 0}]")
                + line("\"id\": \"g\", " + ok + "\"answers\": [{\"text\": \"Pittsburgh\", \"answer_start\": 3}]")
                + line("\"id\": \"h\", " + ok + "\"answers\": [{\"text\": \"Santa Clara\", \"answer_start\": 50}]")
                + line("\"id\": \"a\", " + ok + "\"answers\": [{\"text\": \"Broncos\"}]")
                + line("\"id\": \"i\", " + ok + "\"answers\": []")
                + "[1, 2]\n"
                + line("\"id\": \"j\", " + ok + "\"answers\": [{\"text\": \"Broncos\", \"answer_start\": \"7\"}]")
                + line("\"id\": \"k\", " + ok + "\"answers\": [{\"text\": \"Broncos\", \"answer_start\": 7}]} x"));
        SquadData data = SquadReader.read(file, OnBadRecord.SKIP);
        assertEquals(List.of("a", "h"), data.examples().stream().map(SquadExample::id).toList());
        List<BadRecord> bad = data.badRecords();
        assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L, 9L, 10L, 11L, 12L, 13L),
                bad.stream().map(BadRecord::lineOrIndex).toList());
        assertStartsWith("malformed JSON", bad.get(0));
        assertStartsWith("missing field 'question'", bad.get(1));
        assertStartsWith("field 'question' is a number 5, expected a string", bad.get(2));
        assertStartsWith("empty question", bad.get(3));
        assertStartsWith("empty answer: answers[0]", bad.get(4));
        assertStartsWith("answer not in context: answers[0] \"Pittsburgh\"", bad.get(5));
        assertStartsWith("duplicate id 'a' (first at line 1)", bad.get(6));
        assertStartsWith("no answers", bad.get(7));
        assertStartsWith("record is an array, expected an object", bad.get(8));
        assertStartsWith("answers[0].answer_start is a string \"7\", expected an integer", bad.get(9));
        assertStartsWith("malformed JSON", bad.get(10));
        assertTrue(bad.stream().allMatch(b -> b.source().equals(file.toString())));
        // kept, with the offset moved to where the text is, and counted as a warning
        assertEquals(List.of(55), data.examples().get(1).answerStarts());
        assertEquals(1, data.warnings().size());
        assertEquals(8L, data.warnings().get(0).lineOrIndex());
        assertStartsWith("answer_start mismatch: answers[0] \"Santa Clara\" is not at 50; found at 55",
                data.warnings().get(0));

        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(file, OnBadRecord.FAIL));
        assertTrue(e.getMessage().startsWith(file + " line 2: malformed JSON"), e.getMessage());
    }

    @Test
    void badRecordsInTheJsonLayoutsNameTheirPlace() throws IOException {
        Path official = write("o.json", """
                {"data": [{"title": "T", "paragraphs": [
                  {"context": "abc", "qas": [{"id": "1", "question": "Q?", "answers": [{"text": "abc"}]}]},
                  {"context": "abc", "qas": [{"id": "2", "question": "Q?"},
                                             {"id": "3", "question": "Q?", "answers": [{"text": "b"}]}]},
                  {"context": 42, "qas": [{"id": "4"}, {"id": "5"}]}]}], "version": "1.1"}
                """);
        SquadData data = SquadReader.read(official, OnBadRecord.SKIP);
        assertEquals(List.of("1", "3"), data.examples().stream().map(SquadExample::id).toList());
        assertEquals(List.of(1L, 3L), data.badRecords().stream().map(BadRecord::lineOrIndex).toList());
        assertEquals("missing field 'answers' at data[0].paragraphs[1].qas[0]", data.badRecords().get(0).reason());
        assertEquals("field 'context' is a number 42, expected a string at data[0].paragraphs[2] (2 questions "
                + "dropped)", data.badRecords().get(1).reason());
        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(official, OnBadRecord.FAIL));
        assertEquals(official + " record 1: missing field 'answers' at data[0].paragraphs[1].qas[0]", e.getMessage());

        Path flat = write("f.json", "[{\"question\": \"Q?\", \"context\": \"c\", \"answer\": \"c\"},\n"
                + "  {\"question\": \"Q?\", \"context\": \"c\", \"full answer\": \"c\"}]");
        BadRecord missing = SquadReader.read(flat, OnBadRecord.SKIP).badRecords().get(0);
        assertEquals(1L, missing.lineOrIndex());
        assertEquals("missing field 'answer' at [1] (line 2, column 3)", missing.reason());
    }

    @Test
    void answerStartCountsCodePointsLikePython() throws IOException {
        // "😀" is one code point (Python index 1) but two Java chars
        Path file = write("emoji.jsonl", line("\"context\": \"\uD83D\uDE00 Paris\", \"question\": \"Where?\", "
                + "\"answers\": [{\"text\": \"Paris\", \"answer_start\": 2}]"));
        SquadData data = SquadReader.read(file, OnBadRecord.FAIL);
        assertEquals(List.of(2), data.examples().get(0).answerStarts());
        assertEquals(List.of(), data.warnings());
    }

    @Test
    void invalidUtf8NamesTheByteOffsetAndLine() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        String first = line("\"context\": \"é\", \"question\": \"Q?\", \"answers\": [{\"text\": \"é\"}]");
        bytes.writeBytes(first.getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"context\": \"x".getBytes(StandardCharsets.UTF_8));
        int offset = bytes.size();
        bytes.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28}); // a lead byte without its continuation
        bytes.writeBytes("\"}\n".getBytes(StandardCharsets.UTF_8));
        SquadDataException e = assertThrows(SquadDataException.class, () -> SquadReader.read(
                new ByteArrayInputStream(bytes.toByteArray()), "s3://bucket/train.jsonl", OnBadRecord.SKIP));
        assertEquals("s3://bucket/train.jsonl: invalid UTF-8 at byte offset " + offset + " (line 2): 0xC3",
                e.getMessage());

        byte[] truncated = "[{\"question\": \"\u00e9".getBytes(StandardCharsets.UTF_8);
        e = assertThrows(SquadDataException.class, () -> SquadReader.read(
                new ByteArrayInputStream(truncated, 0, truncated.length - 1), "cut.json", OnBadRecord.SKIP));
        assertTrue(e.getMessage().startsWith("cut.json: invalid UTF-8 at byte offset " + (truncated.length - 2)
                + " (line 1)"), e.getMessage());
    }

    @Test
    void invalidUtf8FarIntoTheFileAndJavaSpecificForms() throws IOException {
        // 3,000 valid lines (~200 KB with 2- and 4-byte characters) cross the decoder's 64 KiB buffer refills
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] ok = line("\"context\": \"é \uD83D\uDE00\", \"question\": \"Q?\", \"answers\": [{\"text\": \"é\"}]")
                .getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 3000; i++) {
            bytes.writeBytes(ok);
        }
        for (byte[] bad : List.of(new byte[] {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // an encoded surrogate (CESU-8)
                new byte[] {(byte) 0x80})) { // a stray continuation byte
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            file.writeBytes(bytes.toByteArray());
            file.writeBytes("{\"context\": \"".getBytes(StandardCharsets.UTF_8));
            long offset = file.size();
            file.writeBytes(bad);
            file.writeBytes("\"}\n".getBytes(StandardCharsets.UTF_8));
            SquadDataException e = assertThrows(SquadDataException.class, () -> SquadReader.read(
                    new ByteArrayInputStream(file.toByteArray()), "big.jsonl", OnBadRecord.SKIP));
            assertTrue(e.getMessage().startsWith("big.jsonl: invalid UTF-8 at byte offset " + offset
                    + " (line 3001)"), e.getMessage());
        }
        SquadData valid = SquadReader.read(new ByteArrayInputStream(bytes.toByteArray()), "big.jsonl",
                OnBadRecord.FAIL);
        assertEquals(3000, valid.examples().size());
        assertEquals("\u00E9 \uD83D\uDE00", valid.examples().get(2999).context());
    }

    @Test
    void streamsGetIdsFromTheDisplayName() throws IOException {
        byte[] content = line("\"context\": \"c\", \"question\": \"Q?\", \"answers\": [{\"text\": \"c\"}]")
                .getBytes(StandardCharsets.UTF_8);
        SquadData data = SquadReader.read(new ByteArrayInputStream(content), "s3://bucket/data/train.jsonl",
                OnBadRecord.FAIL);
        assertEquals("train-1", data.examples().get(0).id());
    }

    @Test
    void emptyAllBadAndOversizedInputsAreErrors() throws IOException {
        assertMessage(write("empty.json", ""), " is empty");
        assertMessage(write("blank.jsonl", " \n\n "), " is empty");
        assertMessage(write("allbad.jsonl", "{\"question\": \"Q?\"}\n"),
                ": no valid SQuAD questions (jsonl, 1 bad records; first: ");
        assertMessage(write("text.txt", "question,answer\n"), " line 1: not SQuAD JSON, JSON Lines or a "
                + "JSON array: it starts with 'q', expected '{' or '['");
        assertMessage(write("extra.json", "[{\"question\": \"Q?\", \"context\": \"c\", \"answer\": \"c\"}] []"),
                " line 1, column 53: unexpected START_ARRAY after the end of the top-level JSON value");
        assertMessage(write("broken.json", "{\"data\": [{\"paragraphs\": [}]}"), " line 1, column 27: "
                + "malformed JSON: Unexpected close marker '}': expected ']' "
                + "(for Array starting at [line: 1, column: 26])");

        String ok = line("\"context\": \"c\", \"question\": \"Q?\", \"answers\": [{\"text\": \"c\"}]");
        String huge = "{\"context\": \"" + "x".repeat(SquadReader.MAX_LINE_CHARS) + "\"}\n";
        assertMessage(write("huge.jsonl", ok + huge), " line 2 is longer than 10485760 characters");
    }

    @Test
    void sharedDevSetAndItsDisjointSplits() throws IOException {
        SquadData dev = SquadReader.read(Shared.squad("dev-v1.1.json"), OnBadRecord.FAIL);
        assertEquals(SquadData.SQUAD_JSON, dev.format());
        assertEquals(10_570, dev.examples().size());
        assertEquals(List.of(), dev.warnings());
        SquadData train = SquadReader.read(Shared.squad("train-proxy-36-articles.jsonl"), OnBadRecord.FAIL);
        SquadData test = SquadReader.read(Shared.squad("dev-12-articles.jsonl"), OnBadRecord.FAIL);
        assertEquals(SquadData.JSON_LINES, train.format());
        assertEquals(7_649, train.examples().size());
        assertEquals(2_921, test.examples().size());
        assertEquals(List.of(), train.warnings());
        assertEquals(List.of(), test.warnings());
        Set<String> trainIds = ids(train);
        Set<String> testIds = ids(test);
        assertTrue(trainIds.stream().noneMatch(testIds::contains), "train proxy and test split share ids");
        Set<String> union = new HashSet<>(trainIds);
        union.addAll(testIds);
        assertEquals(ids(dev), union);
    }

    private static Set<String> ids(SquadData data) {
        Set<String> ids = new HashSet<>();
        data.examples().forEach(e -> ids.add(e.id()));
        return ids;
    }

    private static void assertStartsWith(String expected, BadRecord record) {
        assertTrue(record.reason().startsWith(expected), () -> "expected '" + expected + "...', got " + record);
    }

    /** The error message must be the file path followed by {@code afterName}... */
    private static void assertMessage(Path file, String afterName) {
        SquadDataException e = assertThrows(SquadDataException.class,
                () -> SquadReader.read(file, OnBadRecord.SKIP));
        String expected = file + afterName;
        assertTrue(e.getMessage().startsWith(expected), () -> "expected '" + expected + "...', got: "
                + e.getMessage());
    }
}
