package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SquadEvalCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
        String lastLine() {
            String[] lines = out.strip().split("\n");
            return lines[lines.length - 1];
        }
    }

    private static Run tuneloop(String... argv) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(argv);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** ../shared/data/squad-v1.1/{file}; a missing fixture fails the test. */
    private static Path squad(String file) {
        String configured = System.getProperty("tuneloop.shared.dir");
        Path shared = configured != null ? Path.of(configured) : Path.of("..", "..", "shared");
        Path p = shared.resolve("data/squad-v1.1").resolve(file).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            fail("missing shared fixture " + p + " (see ../shared/README.md)");
        }
        return p;
    }

    private Path json(String name, Object value) throws IOException {
        Path p = dir.resolve(name);
        new ObjectMapper().writeValue(p.toFile(), value);
        return p;
    }

    @Test
    void devSetPrintsThePythonReferenceScores() throws IOException {
        Path dataset = squad("dev-v1.1.json");
        List<SquadExample> examples = SquadReader.read(dataset, OnBadRecord.FAIL).examples();
        // the same deterministic predictions as SquadMetricTest.crossCheckPredictions in the model module
        Map<String, String> predictions = new LinkedHashMap<>();
        for (int i = 0; i < examples.size(); i++) {
            SquadExample ex = examples.get(i);
            String g = ex.answers().get(ex.answers().size() - 1);
            int space = g.indexOf(' ');
            if (i % 3 == 0) {
                predictions.put(ex.id(), ex.answers().get(0));
            } else if (i % 3 == 1) {
                predictions.put(ex.id(), switch ((i / 3) % 3) {
                    case 0 -> space < 0 ? "" : g.substring(space + 1);
                    case 1 -> "the " + g;
                    default -> "\"" + g + "\"!";
                });
            }
        }
        Run run = tuneloop("squad-eval", dataset.toString(), json("preds.json", predictions).toString());
        assertEquals(0, run.exit(), run.err());
        // python3 evaluate-v1.1.py (re-implemented) printed exactly this line for the same files
        assertEquals("{\"exact_match\": 56.82119205298013, \"f1\": 61.15047296680872}", run.lastLine());
        assertEquals(3523, run.err().lines().filter(l -> l.startsWith("Unanswered question ")).count());
        assertEquals(1, run.out().lines().count(), "stdout holds only the result");
    }

    @Test
    void jsonLinesDatasetWithGoldPredictionsScoresOneHundred() throws IOException {
        Path dataset = squad("dev-12-articles.jsonl");
        Map<String, String> predictions = new LinkedHashMap<>();
        for (SquadExample ex : SquadReader.read(dataset, OnBadRecord.FAIL).examples()) {
            predictions.put(ex.id(), ex.answers().get(0));
        }
        predictions.put("not-a-question", "x");
        Run run = tuneloop("squad-eval", dataset.toString(), json("gold.json", predictions).toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("{\"exact_match\": 100.0, \"f1\": 100.0}", run.lastLine());
        assertTrue(run.err().contains("1 of 2922 predictions are for ids not in the dataset"), run.err());
    }

    @Test
    void flatArrayDatasetAndAMissingPrediction() throws IOException {
        Path dataset = json("flat.json", List.of(
                Map.of("id", "a", "question", "Who?", "context", "Denver won.", "answer", "Denver",
                        "p_phrase", "", "n_phrase", "", "full answer", "Denver won."),
                Map.of("id", "b", "question", "What?", "context", "Denver won.", "answer", "won",
                        "p_phrase", "", "n_phrase", "", "full answer", "Denver won.")));
        Run run = tuneloop("squad-eval", dataset.toString(), json("p.json", Map.of("a", "denver!")).toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("{\"exact_match\": 50.0, \"f1\": 50.0}", run.lastLine());
        assertTrue(run.err().contains("Unanswered question b will receive score 0."), run.err());
    }

    @Test
    void badDatasetRecordFailsUnlessSkipped() throws IOException {
        Path dataset = dir.resolve("d.jsonl");
        Files.writeString(dataset, """
                {"id": "a", "context": "c", "question": "Q?", "answers": [{"text": "c"}]}
                {"id": "b", "context": "c", "question": "", "answers": [{"text": "c"}]}
                """);
        Path predictions = json("p.json", Map.of("a", "c"));
        Run failed = tuneloop("squad-eval", dataset.toString(), predictions.toString());
        assertEquals(1, failed.exit());
        assertEquals("", failed.out());
        assertTrue(failed.err().contains(dataset + " line 2: empty question"), failed.err());

        Run skipped = tuneloop("squad-eval", dataset.toString(), predictions.toString(), "--skip-bad-records");
        assertEquals(0, skipped.exit(), skipped.err());
        assertEquals("{\"exact_match\": 100.0, \"f1\": 100.0}", skipped.lastLine());
        assertTrue(skipped.err().contains("skipped bad record: " + dataset + " [2]: empty question"), skipped.err());
    }

    @Test
    void usageErrorsExitWithTwo() throws IOException {
        Path dataset = squad("dev-12-articles.jsonl");
        Run one = tuneloop("squad-eval", dataset.toString());
        assertEquals(2, one.exit());
        assertTrue(one.err().contains("usage: tuneloop squad-eval DATASET.json PREDICTIONS.json"), one.err());
        Run unknown = tuneloop("squad-eval", dataset.toString(), dataset.toString(), "--fast=yes");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("unknown option --fast"), unknown.err());
        Path notAnObject = dir.resolve("list.json");
        Files.writeString(notAnObject, "[\"a\"]");
        Run badPredictions = tuneloop("squad-eval", dataset.toString(), notAnObject.toString());
        assertEquals(1, badPredictions.exit());
        assertTrue(badPredictions.err().contains(notAnObject + ": expected a JSON object"), badPredictions.err());
    }
}
