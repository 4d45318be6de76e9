package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import dev.tuneloop.model.safetensors.TensorInfo;
import dev.tuneloop.model.squad.SquadReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's answer to bad input: exit code 1 (bad file or value) or 2 (bad usage), one stderr line naming the file,
 * field or tensor and the value, no stack trace, and no half-written output (no run folder, no predictions file).
 */
class BadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Files refused whatever --on-bad-record says: nothing valid in them, or unreadable as a whole. */
    private static final java.util.Set<String> FATAL_WHEN_SKIPPING = java.util.Set.of("empty.jsonl", "cut.jsonl",
            "v2.json", "shape.json", "huge.jsonl");

    @TempDir
    Path tmp;

    private void assertRefused(CliRun run, int code, String... fragments) {
        assertEquals(code, run.exitCode(), run.describe());
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "expected '" + f + "' in\n" + run.describe());
        }
        assertFalse(run.err().contains("\tat "), "a stack trace reached the user:\n" + run.describe());
    }

    private CliRun train(Path trainFile, Path out, String... options) throws IOException {
        String[] base = {"train", "--model", Fixtures.tinyGolden().toString(), "--train", trainFile.toString(),
            "--eval", Fixtures.devQuestions(tmp, "eval.jsonl", 4).toString(), "--out", out.toString(),
            "--on-bad-record", "fail"};
        String[] argv = Arrays.copyOf(base, base.length + options.length);
        System.arraycopy(options, 0, argv, base.length, options.length);
        return CliRun.of(argv);
    }

    @Test
    void badDatasetFilesFailTrainAndEvaluateNamingFileAndLineAndLeaveNoOutput() throws Exception {
        String good = Files.readAllLines(Fixtures.devQuestions(tmp, "good.jsonl", 1)).get(0) + "\n";
        byte[] cut = (good + "{\"context\": \"\u00e9").getBytes(StandardCharsets.UTF_8);
        Object[][] cases = {
            {"malformed.jsonl", good + "{\"question\": \n", "malformed.jsonl line 2: malformed JSON"},
            {"empty.jsonl", "", "empty.jsonl is empty"},
            {"missing.jsonl", good + "{\"context\": \"c\", \"answers\": [{\"text\": \"c\"}]}\n",
                "missing.jsonl line 2: missing field 'question'"},
            {"types.jsonl", good + "{\"context\": \"c\", \"question\": 7, \"answers\": [{\"text\": \"c\"}]}\n",
                "types.jsonl line 2: field 'question' is a number 7, expected a string"},
            {"absent.jsonl", good + "{\"context\": \"abc\", \"question\": \"Q?\", \"answers\": [{\"text\": \"xyz\"," +
                " \"answer_start\": 1}]}\n", "absent.jsonl line 2: answer not in context: answers[0] \"xyz\""},
            {"start.jsonl", good + "{\"context\": \"abc\", \"question\": \"Q?\", \"answers\": [{\"text\": \"b\"," +
                " \"answer_start\": 1.5}]}\n", "start.jsonl line 2: answers[0].answer_start is a number 1.5, "
                    + "expected an integer"},
            {"cut.jsonl", Arrays.copyOf(cut, cut.length - 1), "cut.jsonl: invalid UTF-8 at byte offset"},
            {"v2.json", "{\"version\": \"v2.0\", \"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": "
                + "\"x\", \"question\": \"Q?\", \"answers\": [], \"is_impossible\": true}]}]}]}",
                "v2.json record 0: no answers at data[0].paragraphs[0].qas[0]"},
            {"shape.json", "{\"version\": \"1.1\", \"data\": {\"title\": \"T\"}}", "shape.json"},
            {"huge.jsonl", good + "{\"context\": \"" + "x".repeat(SquadReader.MAX_LINE_CHARS) + "\"}\n",
                "huge.jsonl line 2 is longer than 10485760 characters"},
        };
        for (Object[] c : cases) {
            Path file = tmp.resolve((String) c[0]);
            if (c[1] instanceof String text) {
                Files.writeString(file, text, StandardCharsets.UTF_8);
            } else {
                Files.write(file, (byte[]) c[1]);
            }
            Path out = tmp.resolve("run-" + c[0]);
            assertRefused(train(file, out), 1, "tuneloop train: error: " + tmp.resolve((String) c[0]), (String) c[2]);
            assertFalse(Files.exists(out), "a refused train run left " + out);

            if (!FATAL_WHEN_SKIPPING.contains((String) c[0])) {
                continue; // evaluate skips bad records: a file with one good record is evaluated on it
            }
            Path predictions = tmp.resolve("predictions-" + c[0]);
            CliRun evaluate = CliRun.of("evaluate", "--model", Fixtures.tinyGolden().toString(), "--data",
                    file.toString(), "--out", predictions.toString());
            assertRefused(evaluate, 1, "tuneloop evaluate: error: " + tmp.resolve((String) c[0]));
            assertFalse(Files.exists(predictions), "a refused evaluation wrote " + predictions);
        }
    }

    @Test
    void hyperParametersOutOfRangeAreUsageErrorsNamingOptionValueAndBound() throws Exception {
        Path data = Fixtures.devQuestions(tmp, "train.jsonl", 4);
        String[][] cases = {
            {"--lr", "0", "--lr 0.0 must be in (0, 1]"},
            {"--lr", "-1e-4", "--lr -1.0E-4 must be in (0, 1]"},
            {"--lora-r", "0", "--lora-r 0 must be in [1, 1024]"},
            {"--batch-size", "0", "--batch-size 0 must be in [1, 1024]"},
            {"--epochs", "1000000", "--epochs 1000000 must be in [1, 1000]"},
            {"--lora-alpha", "0", "--lora-alpha 0.0 must be > 0"},
            {"--lora-alpha", "-16", "--lora-alpha -16.0 must be > 0"},
            {"--lora-dropout", "1", "--lora-dropout 1.0 must be in [0, 1)"},
            {"--max-seq-len", "0", "--max-seq-len 0 must be in [16, 32768]"},
            {"--lr", "NaN", "--lr NaN must be in (0, 1]"},
            {"--epochs", "two", "--epochs"},
        };
        for (String[] c : cases) {
            Path out = tmp.resolve("run" + c[0] + c[1]);
            assertRefused(train(data, out, c[0], c[1]), 2, c[2]);
            assertFalse(Files.exists(out), "a refused train run left " + out);
        }
    }

    @Test
    void maxSeqLenBeyondTheModelsPositionsIsRefusedBeforeTheRunFolderIsWritten() throws Exception {
        Path model = Fixtures.tinyQwen(tmp, 5);
        editConfig(model, c -> c.put("max_position_embeddings", 256));
        Path data = Fixtures.devQuestions(tmp, "train.jsonl", 4);
        Path out = tmp.resolve("run-positions");
        CliRun run = CliRun.of("train", "--model", model.toString(), "--train", data.toString(), "--eval",
                data.toString(), "--out", out.toString(), "--max-seq-len", "512");
        assertRefused(run, 1, "--max-seq-len 512 is more than the model's max_position_embeddings 256 ("
                + model.resolve("config.json") + ")");
        assertFalse(Files.exists(out), "a refused train run left " + out);

        CliRun answer = CliRun.of("answer", "--model", model.toString(), "--question", "Q?", "--context", "c",
                "--max-seq-len", "512");
        assertRefused(answer, 1, "max_seq_len 512 is more than the model's max_position_embeddings 256");
    }

    @Test
    void promptsPastTheContextLengthAreRefusedNamingTheLimit() throws Exception {
        Path model = Fixtures.tinyQwen(tmp, 6);
        String longQuestion = "Which word comes next " + "again and ".repeat(200) + "?";
        CliRun answer = CliRun.of("answer", "--model", model.toString(), "--question", longQuestion, "--context",
                "c", "--max-seq-len", "128");
        assertRefused(answer, 1, "but max_seq_len is 128");

        Path small = Fixtures.minimalModel(tmp.resolve("small"));
        editConfig(small, c -> c.put("max_position_embeddings", 8));
        String nine = IntStream.range(1, 10).mapToObj(Integer::toString).collect(Collectors.joining(","));
        assertRefused(CliRun.of("generate", "--model", small.toString(), "--ids", nine), 1,
                "the prompt has 9 tokens, more than the model's max_position_embeddings 8 ("
                        + small.resolve("config.json") + ")");
        // within the positions but generating past them: a warning, as transformers gives, and an answer
        CliRun past = CliRun.of("generate", "--model", small.toString(), "--ids", "1,2,3", "--max-new-tokens", "8");
        assertEquals(0, past.exitCode(), past.describe());
        assertTrue(past.err().contains("exceed max_position_embeddings 8"), past.describe());
    }

    @Test
    void aModelFolderWithAMissingExtraOrMisshapedTensorOrBadConfigIsNamed() throws Exception {
        String k = "model.layers.0.self_attn.k_proj.weight";
        Path missing = modelVariant("missing", w -> w, k, null);
        assertRefused(generate(missing), 1, "missing tensor " + k, "[32, 64]");

        Path extra = modelVariant("extra", w -> w.putFloats("model.layers.0.self_attn.rotary_scale.weight",
                new long[] {4}, new float[4]), null, null);
        assertRefused(generate(extra), 1, "unexpected", "model.layers.0.self_attn.rotary_scale.weight");

        Path misshaped = modelVariant("misshaped", w -> w, k, new long[] {64, 32});
        assertRefused(generate(misshaped), 1, k, "[64, 32]", "expected [32, 64]");

        Path noConfig = Fixtures.minimalModel(tmp.resolve("no-config"));
        Files.delete(noConfig.resolve("config.json"));
        assertRefused(generate(noConfig), 1, "folder " + noConfig + " has no config.json");

        Path garbled = Fixtures.minimalModel(tmp.resolve("garbled"));
        Files.writeString(garbled.resolve("config.json"), "{\"hidden_size\": 64, \"num_hidden_layers\": ");
        assertRefused(generate(garbled), 1, garbled.resolve("config.json").toString());

        Path wrongType = Fixtures.minimalModel(tmp.resolve("wrong-type"));
        editConfig(wrongType, c -> c.put("hidden_size", "sixty-four"));
        assertRefused(generate(wrongType), 1, "hidden_size");
    }

    @Test
    void adaptersThatDoNotFitTheBaseModelAreNamedWithBothShapes() throws Exception {
        Path model = Fixtures.minimalModel(tmp);
        String a = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";

        Path rank = Fixtures.minimalAdapter(tmp.resolve("rank"));
        ObjectNode config = (ObjectNode) JSON.readTree(rank.resolve("adapter_config.json").toFile());
        assertEquals(4, config.get("r").asInt());
        config.put("r", 8);
        JSON.writeValue(rank.resolve("adapter_config.json").toFile(), config);
        assertRefused(generate(model, "--adapter", rank.toString()), 1, a, "[4, 64]", "[8, 64]");

        Path shape = adapterVariant("shape", a, true);
        assertRefused(generate(model, "--adapter", shape.toString()), 1, a, "[64, 4]", "[4, 64]");

        Path target = Fixtures.minimalAdapter(tmp.resolve("target"));
        ObjectNode targetConfig = (ObjectNode) JSON.readTree(target.resolve("adapter_config.json").toFile());
        targetConfig.putArray("target_modules").add("o_proj");
        JSON.writeValue(target.resolve("adapter_config.json").toFile(), targetConfig);
        assertRefused(generate(model, "--adapter", target.toString()), 1, "lora_A.weight does not fit the base model"
                + " (no such module, or not in target_modules) (and 23 more)");

        Path noAdapter = Files.createDirectories(tmp.resolve("not-an-adapter"));
        assertRefused(generate(model, "--adapter", noAdapter.toString()), 1, "has no adapter_config.json");
    }

    private CliRun generate(Path model, String... extra) {
        String[] base = {"generate", "--model", model.toString(), "--ids", "1,2,3", "--max-new-tokens", "2"};
        String[] argv = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, argv, base.length, extra.length);
        return CliRun.of(argv);
    }

    /** The golden tiny model with {@code tensor} dropped (or reshaped to {@code shape}) and {@code more} added. */
    private Path modelVariant(String name, UnaryOperator<SafetensorsWriter> more, String tensor, long[] shape)
            throws IOException {
        Path dir = Fixtures.minimalModel(tmp.resolve(name));
        Path weights = dir.resolve("model.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile in = SafetensorsFile.open(weights)) {
            for (TensorInfo t : in.tensors().values()) {
                if (t.name().equals(tensor) && shape == null) {
                    continue;
                }
                writer.putFloats(t.name(), t.name().equals(tensor) ? shape : t.shape(), in.floats(t.name()));
            }
        }
        more.apply(writer).write(weights);
        return dir;
    }

    /** The golden adapter with {@code tensor} transposed. */
    private Path adapterVariant(String name, String tensor, boolean transpose) throws IOException {
        Path dir = Fixtures.minimalAdapter(tmp.resolve(name));
        Path weights = dir.resolve("adapter_model.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile in = SafetensorsFile.open(weights)) {
            for (TensorInfo t : in.tensors().values()) {
                long[] s = t.shape();
                writer.putFloats(t.name(), t.name().equals(tensor) && transpose ? new long[] {s[1], s[0]} : s,
                        in.floats(t.name()));
            }
        }
        writer.write(weights);
        return dir;
    }

    private static void editConfig(Path model, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(model.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(model.resolve("config.json").toFile(), config);
    }
}
