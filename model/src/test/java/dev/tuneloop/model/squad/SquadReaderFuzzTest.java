package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random bytes and mutations of valid files in the three layouts, read under both bad-record policies: every
 * outcome is either a parse with at least one question or a {@link SquadDataException} whose message starts with the
 * source name. Anything else (a NullPointerException, ClassCastException, IndexOutOfBounds, StackOverflowError, out of
 * memory, a case slower than a second) fails the test naming the iteration, the mutation and the input.
 */
class SquadReaderFuzzTest {
    private static final String CONTEXT = "Super Bowl 50 was played on February 7, 2016, at Levi's Stadium in Santa "
            + "Clara, California. The Denver Broncos defeated the Carolina Panthers 24\u201310. "
            + "\u00C9t\u00E9 \uD83D\uDE00";
    // text blocks: a trailing backslash joins the next line (one JSON Lines record per line)
    private static final String JSONL = """
            {"id": "q1", "title": "SB", "context": "%1$s", "question": "Who won?", \
            "answers": [{"text": "Denver Broncos", "answer_start": 103}]}
            {"id": "q2", "context": "%1$s", "question": "Where?", \
            "answers": {"text": ["Santa Clara"], "answer_start": [70]}}
            {"id": 3, "context": "%1$s", "question": "When?", "answers": [{"text": "February 7, 2016"}]}
            """.formatted(CONTEXT);
    private static final String OFFICIAL = """
            {"version": "1.1", "data": [{"title": "SB", "paragraphs": [{"context": "%1$s", "qas": [
              {"id": "a", "question": "Who won?", "answers": [{"text": "Denver Broncos", "answer_start": 103}]},
              {"id": "b", "question": "Where?", "answers": [{"text": "Santa Clara", "answer_start": 70}]}]}]}]}
            """.formatted(CONTEXT);
    private static final String FLAT = """
            [{"id": "f1", "context": "%1$s", "question": "Who won?", "answer": "Denver Broncos", "p_phrase": "x"},
             {"context": "%1$s", "question": "Where?", "answer": "Santa Clara", "full answer": "In Santa Clara"}]
            """.formatted(CONTEXT);
    private static final String[] TOKENS = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "true",
        "-1", "1e309", "99999999999999999999", "\"answers\"", "\"data\"", "\"qas\"", "\"paragraphs\"", "\"context\"",
        "\"question\"", "\"answer_start\"", "\"text\"", "\n", "\r\n", "\uFEFF", "\u0000", " ", "[[[[[[[[", "{\"a\":"};
    private static final byte[][] BAD_UTF8 = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xC0,
        (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xE2, (byte) 0x82}};
    private static final int CASES = 4000;

    @Test
    void randomAndMutatedFilesParseOrFailNamingTheSource() throws Exception {
        byte[][] bases = {JSONL.getBytes(StandardCharsets.UTF_8), OFFICIAL.getBytes(StandardCharsets.UTF_8),
            FLAT.getBytes(StandardCharsets.UTF_8)};
        for (byte[] base : bases) { // the seeds themselves are valid
            assertTrue(parses(base, "seed", OnBadRecord.FAIL), new String(base, StandardCharsets.UTF_8));
        }
        int[] outcomes = new int[2];
        long[] slowest = new long[1];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Random rnd = new Random(20261128L);
            for (int i = 0; i < CASES; i++) {
                int kind = rnd.nextInt(10);
                byte[] input = kind == 9 ? randomBytes(rnd) : mutate(bases[rnd.nextInt(bases.length)], kind, rnd);
                if (rnd.nextInt(4) == 0) {
                    input = mutate(input, rnd.nextInt(9), rnd); // sometimes two mutations
                }
                String source = "s3://fuzz/case-" + i + (rnd.nextBoolean() ? ".jsonl" : ".json");
                OnBadRecord policy = rnd.nextBoolean() ? OnBadRecord.SKIP : OnBadRecord.FAIL;
                long start = System.nanoTime();
                try {
                    outcomes[parses(input, source, policy) ? 0 : 1]++;
                } catch (Throwable t) {
                    fail("case " + i + " (mutation " + kind + ", " + policy + ") escaped with " + t + "; input: "
                            + show(input), t);
                }
                long ms = (System.nanoTime() - start) / 1_000_000;
                slowest[0] = Math.max(slowest[0], ms);
                if (ms > 1000) {
                    fail("case " + i + " (mutation " + kind + ") took " + ms + " ms; input: " + show(input));
                }
            }
        });
        System.out.printf("fuzz: %d cases, %d parsed, %d refused naming the source, slowest %d ms%n", CASES,
                outcomes[0], outcomes[1], slowest[0]);
        assertTrue(outcomes[0] > CASES / 10 && outcomes[1] > CASES / 10,
                "both outcomes exercised: parsed " + outcomes[0] + ", refused " + outcomes[1]);
    }

    /** True when it parsed with at least one question; false when refused with a message naming the source. */
    private static boolean parses(byte[] input, String source, OnBadRecord policy) throws Exception {
        SquadData data;
        try {
            data = SquadReader.read(new ByteArrayInputStream(input), source, policy);
        } catch (SquadDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith(source)) {
                throw new AssertionError("message does not start with the source " + source + ": " + e.getMessage());
            }
            return false;
        }
        if (data.examples().isEmpty()) {
            throw new AssertionError("parsed without questions and without an error: " + data.summary());
        }
        for (SquadExample e : data.examples()) {
            if (e.id() == null || e.context() == null || e.question() == null || e.answers().isEmpty()) {
                throw new AssertionError("incomplete example " + e);
            }
        }
        for (BadRecord bad : data.badRecords()) {
            if (!bad.source().equals(source) || bad.reason() == null || bad.reason().isEmpty()) {
                throw new AssertionError("bad record without source or reason: " + bad);
            }
        }
        return true;
    }

    private static byte[] mutate(byte[] in, int kind, Random rnd) {
        if (in.length == 0) {
            return TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
        }
        int at = rnd.nextInt(in.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (kind) {
            case 0 -> { // flip bits in a few bytes
                byte[] b = in.clone();
                for (int k = 0; k < 1 + rnd.nextInt(4); k++) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                return b;
            }
            case 1 -> { // insert a JSON token
                out.write(in, 0, at);
                out.writeBytes(TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
                out.write(in, at, in.length - at);
            }
            case 2 -> { // delete a range
                int len = Math.min(in.length - at, 1 + rnd.nextInt(40));
                out.write(in, 0, at);
                out.write(in, at + len, in.length - at - len);
            }
            case 3 -> { // truncate
                return Arrays.copyOf(in, at);
            }
            case 4 -> { // duplicate a range
                int len = Math.min(in.length - at, 1 + rnd.nextInt(200));
                out.write(in, 0, at + len);
                out.write(in, at, in.length - at);
            }
            case 5 -> { // invalid UTF-8
                out.write(in, 0, at);
                out.writeBytes(BAD_UTF8[rnd.nextInt(BAD_UTF8.length)]);
                out.write(in, at, in.length - at);
            }
            case 6 -> { // replace a token-sized span with a token
                int len = Math.min(in.length - at, 1 + rnd.nextInt(12));
                out.write(in, 0, at);
                out.writeBytes(TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
                out.write(in, at + len, in.length - at - len);
            }
            case 7 -> { // deep nesting
                out.write(in, 0, at);
                out.writeBytes("[".repeat(1 + rnd.nextInt(3000)).getBytes(StandardCharsets.UTF_8));
                out.write(in, at, in.length - at);
            }
            default -> { // swap digits: offsets and numbers out of range
                byte[] b = in.clone();
                for (int k = 0; k < b.length; k++) {
                    if (b[k] >= '0' && b[k] <= '9' && rnd.nextInt(3) == 0) {
                        b[k] = (byte) ('0' + rnd.nextInt(10));
                    }
                }
                return b;
            }
        }
        return out.toByteArray();
    }

    private static byte[] randomBytes(Random rnd) {
        byte[] b = new byte[rnd.nextInt(600)];
        if (rnd.nextBoolean()) {
            rnd.nextBytes(b);
        } else { // printable JSON-ish characters reach further into the parser
            String alphabet = "{}[]\":, \n0123456789-.eEtrufalsn\\abcxyz";
            for (int k = 0; k < b.length; k++) {
                b[k] = (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
            }
        }
        return b;
    }

    private static String show(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        return text.length() <= 400 ? text : text.substring(0, 400) + "... (" + input.length + " bytes)";
    }
}
