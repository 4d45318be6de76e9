package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadPredictions;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.train.Evaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tuneloop evaluate}: the official predictions map for exactly the evaluated ids, EM/F1 equal to
 * {@code squad-eval} of the same files, the fixed sample of {@code --limit}, the adapter's own prompt, bad input.
 */
class EvaluateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path model;
    static Path five;
    static Path noise;
    static List<SquadExample> fiveExamples;
    static CliRun all;
    static Map<String, String> allPredictions;

    @BeforeAll
    static void evaluateFiveOnce() throws Exception {
        model = Fixtures.tinyQwen(tmp, 5);
        five = Fixtures.devQuestions(tmp, "five.jsonl", 5);
        fiveExamples = SquadReader.read(five, OnBadRecord.FAIL).examples();
        noise = Fixtures.noiseAdapter(tmp, model, 7);
        Path out = tmp.resolve("out/all.json"); // the folder does not exist yet
        all = CliRun.of("evaluate", "--model", model.toString(), "--adapter", noise.toString(), "--data",
                five.toString(), "--out", out.toString(), "--max-new-tokens", "6");
        assertEquals(0, all.exitCode(), all.describe());
        allPredictions = SquadPredictions.read(out);
    }

    @Test
    void writesOnePredictionPerExampleInFileOrder() throws Exception {
        assertEquals(fiveExamples.stream().map(SquadExample::id).toList(), new ArrayList<>(allPredictions.keySet()));
        assertTrue(all.out().contains("n 5  on all 5 examples"), all.describe());
        JsonNode last = JSON.readTree(all.lastLine());
        assertEquals(5, last.get("n").asInt());
        assertEquals(5, last.get("total").asInt());
        assertEquals(Evaluator.evalSetId(fiveExamples), last.get("eval_set_id").asText());
        assertFalse(Files.exists(tmp.resolve("out/.all.json.tmp")), "no temporary file left behind");
    }

    @Test
    void printedScoresEqualSquadEvalOfTheSameFiles() throws Exception {
        // A random model scores 0 on SQuAD; to compare non-zero numbers, add its own answers as gold answers
        // (answer_start -1: "not given"): the prompts, so the predictions, stay the same. The tiny model with the
        // noise adapter answers in words (the tiny model alone answers blank).
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(five)) {
            ObjectNode record = (ObjectNode) JSON.readTree(line);
            String predicted = allPredictions.get(record.get("id").asText());
            int index = lines.size();
            if (index < 2) {
                assertFalse(predicted.isBlank(), "blank answer for " + record.get("id") + ": " + allPredictions);
                String gold = index == 0 ? predicted : predicted.strip().split("\\s+")[0] + " and more words";
                ((ArrayNode) record.get("answers")).addObject()
                        .put("text", gold).put("answer_start", -1);
            }
            lines.add(JSON.writeValueAsString(record));
        }
        Path rigged = Files.write(tmp.resolve("rigged.jsonl"), lines);
        Path out = tmp.resolve("rigged-predictions.json");
        CliRun run = CliRun.of("evaluate", "--model", model.toString(), "--adapter", noise.toString(), "--data",
                rigged.toString(), "--out", out.toString(), "--max-new-tokens", "6");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(allPredictions, SquadPredictions.read(out), "same prompts, same greedy answers");

        CliRun official = CliRun.of("squad-eval", rigged.toString(), out.toString());
        assertEquals(0, official.exitCode(), official.describe());
        JsonNode expected = JSON.readTree(official.lastLine());
        JsonNode printed = JSON.readTree(run.lastLine());
        assertTrue(expected.get("exact_match").asDouble() >= 20.0, official.describe());
        assertEquals(expected.get("exact_match").asDouble(), printed.get("exact_match").asDouble(), run.describe());
        assertEquals(expected.get("f1").asDouble(), printed.get("f1").asDouble(), run.describe());
        assertTrue(printed.get("f1").asDouble() > printed.get("exact_match").asDouble(), run.describe());
        assertTrue(run.out().contains(String.format(Locale.ROOT, "exact_match %.2f  f1 %.2f  n 5",
                expected.get("exact_match").asDouble(), expected.get("f1").asDouble())), run.describe());
    }

    @Test
    void limitEvaluatesTheFixedSampleAndSaysSo() throws Exception {
        Path out = tmp.resolve("three.json");
        CliRun run = CliRun.of("evaluate", "--model", model.toString(), "--data", five.toString(), "--out",
                out.toString(), "--limit", "3", "--max-new-tokens", "6");
        assertEquals(0, run.exitCode(), run.describe());
        List<SquadExample> sample = Evaluator.sample(fiveExamples, 3);
        assertEquals(sample.stream().map(SquadExample::id).toList(),
                new ArrayList<>(SquadPredictions.read(out).keySet()));
        assertTrue(run.out().contains("n 3  on 3 of 5 examples (fixed sample)"), run.describe());
        JsonNode last = JSON.readTree(run.lastLine());
        assertEquals(3, last.get("n").asInt());
        assertEquals(5, last.get("total").asInt());
        assertEquals(Evaluator.evalSetId(sample), last.get("eval_set_id").asText());
    }

    @Test
    void adapterFromTrainingScoresExactlyAsTheTrainingRunDid() throws Exception {
        // training evaluates its checkpoints on the same fixed sample, with the run's prompt and max_seq_len (160
        // here, read back from the checkpoint's tuneloop_config.json): evaluate must reproduce that score
        Path run = tmp.resolve("run");
        Path train = Fixtures.devQuestions(tmp, "train.jsonl", 4);
        CliRun trained = CliRun.of("train", "--model", model.toString(), "--train", train.toString(), "--eval",
                five.toString(), "--out", run.toString(), "--epochs", "1", "--batch-size", "2", "--grad-accum", "1",
                "--eval-limit", "3", "--eval-max-new-tokens", "6", "--max-seq-len", "160", "--lr", "1e-2");
        assertEquals(0, trained.exitCode(), trained.describe());
        Path checkpoint = run.resolve("checkpoints/epoch-0001");
        JsonNode atTraining = JSON.readTree(Files.readString(checkpoint.resolve("eval.json")));

        CliRun again = CliRun.of("evaluate", "--model", model.toString(), "--adapter", checkpoint.toString(),
                "--data", five.toString(), "--limit", "3", "--max-new-tokens", "6", "--out",
                tmp.resolve("again.json").toString());
        assertEquals(0, again.exitCode(), again.describe());
        assertTrue(again.err().contains("max_seq_len 160"), again.describe());
        JsonNode now = JSON.readTree(again.lastLine());
        assertEquals(atTraining.get("eval_set_id").asText(), now.get("eval_set_id").asText());
        assertEquals(atTraining.get("exact_match").asDouble(), now.get("exact_match").asDouble());
        assertEquals(atTraining.get("f1").asDouble(), now.get("f1").asDouble());
        assertEquals(JSON.readTree(Files.readString(checkpoint.resolve("predictions.json"))),
                JSON.readTree(Files.readString(tmp.resolve("again.json"))));
    }

    @Test
    void missingDataFileFailsNamingIt() {
        Path missing = tmp.resolve("nope.jsonl");
        CliRun run = CliRun.of("evaluate", "--model", model.toString(), "--data", missing.toString(), "--out",
                tmp.resolve("x.json").toString());
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains(missing.toString()) && run.err().contains("not found"), run.describe());
        assertFalse(Files.exists(tmp.resolve("x.json")));
    }

    @Test
    void limitBelowOneIsAUsageError() {
        for (String limit : new String[] {"0", "-3"}) {
            CliRun run = CliRun.of("evaluate", "--model", model.toString(), "--data", five.toString(), "--out",
                    tmp.resolve("x.json").toString(), "--limit", limit);
            assertEquals(2, run.exitCode(), run.describe());
            assertTrue(run.err().contains("--limit must be at least 1"), run.describe());
        }
    }

    @Test
    void unknownOptionAndMissingOutAreUsageErrors() {
        CliRun unknown = CliRun.of("evaluate", "--model", model.toString(), "--data", five.toString(), "--out",
                tmp.resolve("x.json").toString(), "--limt", "3");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.err().contains("unknown option --limt"), unknown.describe());
        CliRun noOut = CliRun.of("evaluate", "--model", model.toString(), "--data", five.toString());
        assertEquals(2, noOut.exitCode(), noOut.describe());
        assertTrue(noOut.err().contains("missing required option --out"), noOut.describe());
    }
}
