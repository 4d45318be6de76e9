package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tuneloop inspect}: module tree, LoRA placement, PEFT's parameter line, the first example as tokens. */
class InspectCommandTest {
    // the tiny model: hidden 64, 2 layers, intermediate 64 * 5 / 2, 4 heads and 2 KV heads of 16, Qwen2.5's vocabulary
    static final int HIDDEN = 64;
    static final int LAYERS = 2;
    static final int INTERMEDIATE = 160;
    static final int KV = 2 * 16;
    static final int VOCAB = 151936;

    @TempDir
    static Path tmp;
    static Path model;
    static Path five;
    static SquadExample first;

    @BeforeAll
    static void tinyModel() throws Exception {
        model = Fixtures.tinyQwen(tmp, 11);
        five = Fixtures.devQuestions(tmp, "five.jsonl", 5);
        first = SquadReader.read(five, OnBadRecord.FAIL).examples().get(0);
    }

    /** PEFT's count, by hand: A (r, in) + B (out, r) per projection; the base model with its head tied. */
    static String parameterLine(int vocab, int r) {
        long perLayerLora = (long) r * ((HIDDEN + HIDDEN) + (HIDDEN + KV) + (HIDDEN + KV) + (HIDDEN + HIDDEN)
                + 3 * (HIDDEN + INTERMEDIATE));
        long trainable = LAYERS * perLayerLora;
        long attention = (HIDDEN * HIDDEN + HIDDEN) + 2L * (HIDDEN * KV + KV) + HIDDEN * HIDDEN; // q, k, v biased
        long mlp = 3L * HIDDEN * INTERMEDIATE;
        long base = (long) vocab * HIDDEN + LAYERS * (attention + mlp + 2 * HIDDEN) + HIDDEN;
        long all = base + trainable;
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", trainable,
                all, 100.0 * trainable / all);
    }

    @Test
    void loraR8OnAllSevenModulesCountsAsPeftDoes() {
        CliRun run = CliRun.of("inspect", "--model", model.toString(), "--lora-r", "8", "--lora-alpha", "16",
                "--target-modules", String.join(",", LoraConfig.ALL_MODULES));
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().contains(parameterLine(VOCAB, 8)), parameterLine(VOCAB, 8) + "\n" + run.describe());
        assertEquals("trainable params: 17,920 || all params: 9,828,416 || trainable%: 0.1823", parameterLine(VOCAB, 8),
                "the hand count itself (PEFT's format)");
        List<String> lines = run.out().lines().toList();
        assertTrue(has(lines, "model.embed_tokens", "(151936, 64)"), run.describe());
        assertTrue(has(lines, "model.layers.{0..1}.self_attn.q_proj", "(64 -> 64, bias)",
                "LoRA r=8 alpha=16 scaling=2"), run.describe());
        assertTrue(has(lines, "model.layers.{0..1}.self_attn.k_proj", "(64 -> 32, bias)", "LoRA r=8"), run.describe());
        assertTrue(has(lines, "model.layers.{0..1}.self_attn.o_proj", "(64 -> 64)", "LoRA r=8"), run.describe());
        assertTrue(has(lines, "model.layers.{0..1}.mlp.down_proj", "(160 -> 64)", "LoRA r=8"), run.describe());
        assertTrue(has(lines, "model.layers.{0..1}.input_layernorm", "(64,)"), run.describe());
        assertTrue(has(lines, "lm_head", "(64 -> 151936) tied to model.embed_tokens"), run.describe());
        assertTrue(run.out().contains("on 14 of 14 projections"), run.describe());
        assertFalse(run.out().contains("model.layers.0."), "identical layers are collapsed: " + run.describe());
    }

    @Test
    void loraOnSomeModulesOnlyMarksThose() {
        CliRun run = CliRun.of("inspect", "--model", model.toString(), "--lora-r", "4", "--target-modules",
                "q_proj,v_proj");
        assertEquals(0, run.exitCode(), run.describe());
        List<String> lines = run.out().lines().toList();
        assertTrue(has(lines, "self_attn.v_proj", "LoRA r=4 alpha=16 scaling=4"), run.describe());
        assertFalse(has(lines, "self_attn.k_proj", "LoRA"), run.describe());
        long trainable = LAYERS * 4L * ((HIDDEN + HIDDEN) + (HIDDEN + KV));
        assertTrue(run.out().contains(String.format(Locale.ROOT, "trainable params: %,d ||", trainable)),
                run.describe());
    }

    @Test
    void worksOnATokenizerLessModelWithAPeftAdapter() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("golden"));
        Path golden = Fixtures.minimalModel(dir);
        Path adapter = Fixtures.minimalAdapter(dir);
        CliRun run = CliRun.of("inspect", "--model", golden.toString(), "--adapter", adapter.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().contains(parameterLine(1024, 4)), parameterLine(1024, 4) + "\n" + run.describe());
        assertTrue(has(run.out().lines().toList(), "mlp.gate_proj", "(64 -> 160)", "LoRA r=4 alpha=8 scaling=2"),
                run.describe());
        assertTrue(run.out().contains("serving prompt: prompt mode context, max_seq_len 1024"), run.describe());

        CliRun base = CliRun.of("inspect", "--model", golden.toString());
        assertEquals(0, base.exitCode(), base.describe());
        assertTrue(base.out().contains("trainable params: 0 ||"), base.describe());

        CliRun withData = CliRun.of("inspect", "--model", golden.toString(), "--data", five.toString());
        assertEquals(1, withData.exitCode(), withData.describe());
        assertTrue(withData.err().contains(golden.resolve("tokenizer.json").toString()), withData.describe());
    }

    @Test
    void firstExampleShowsPromptIdsAndLabelledPositions() {
        CliRun run = CliRun.of("inspect", "--model", model.toString(), "--data", five.toString());
        assertEquals(0, run.exitCode(), run.describe());
        String out = run.out();
        String prompt = section(out, "--- prompt as the model sees it (ChatML) ---", "--- target ---");
        assertTrue(prompt.startsWith("<|im_start|>system\n"), prompt);
        assertTrue(prompt.contains("Context: " + first.context()), prompt);
        assertTrue(prompt.contains("Question: " + first.question() + "<|im_end|>"), prompt);
        assertTrue(prompt.endsWith("<|im_start|>assistant\n"), prompt);
        assertEquals(first.answers().get(0) + "<|im_end|>",
                section(out, "--- target ---", "--- input_ids ---").strip());

        long[] ids = Arrays.stream(section(out, "--- input_ids ---", "--- positions").strip().replaceAll("[\\[\\]]", "")
                .split(",")).mapToLong(Long::parseLong).toArray();
        List<String[]> rows = new ArrayList<>();
        for (String line : section(out, "--- positions", null).lines().skip(1).toList()) {
            rows.add(line.strip().split("\\s+"));
        }
        assertEquals(ids.length, rows.size(), "one row per token");
        int unlabelled = 0;
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i);
            assertEquals(Integer.toString(i), row[0]);
            assertEquals(Long.toString(ids[i]), row[1]);
            String label = row[row.length - 1];
            if (label.equals("·")) {
                assertEquals(i, unlabelled, "labels start after the prompt and stay on to the end");
                unlabelled++;
            } else {
                assertEquals(Long.toString(ids[i]), label, "a labelled position's label is its own token");
            }
        }
        assertEquals(151645, ids[ids.length - 1], "the sequence ends with <|im_end|>");
        assertTrue(run.out().contains(ids.length + " tokens: " + unlabelled + " prompt + " + (ids.length - unlabelled)
                + " labelled"), run.describe());
    }

    @Test
    void adapterTrainedQuestionOnlyShowsThePromptWithoutTheContext() throws Exception {
        Path adapter = Fixtures.minimalAdapter(Files.createDirectories(tmp.resolve("question-only")));
        TrainConfig.builder("tiny", "train.jsonl", "eval.jsonl").loraR(4).loraAlpha(8).maxSeqLen(256)
                .prompt(PromptTemplate.defaults(PromptMode.QUESTION_ONLY)).build().write(adapter.resolve(ServingPrompt.CONFIG_FILE));
        CliRun run = CliRun.of("inspect", "--model", model.toString(), "--adapter", adapter.toString(), "--data",
                five.toString());
        assertEquals(0, run.exitCode(), run.describe());
        String prompt = section(run.out(), "--- prompt as the model sees it (ChatML) ---", "--- target ---");
        assertTrue(prompt.contains("Question: " + first.question()), prompt);
        assertFalse(prompt.contains("Context:"), prompt);
        assertFalse(prompt.contains(first.context().substring(0, 40)), prompt);
        assertTrue(run.out().contains("prompt mode question-only, max_seq_len 256 (from "
                + adapter.resolve(ServingPrompt.CONFIG_FILE)), run.describe());

        CliRun overridden = CliRun.of("inspect", "--model", model.toString(), "--adapter", adapter.toString(),
                "--data", five.toString(), "--prompt", "context");
        assertEquals(0, overridden.exitCode(), overridden.describe());
        assertTrue(overridden.err().contains("--prompt context replaces the question-only template"),
                overridden.describe());
        assertTrue(section(overridden.out(), "(ChatML) ---", "--- target ---").contains(first.context()),
                overridden.describe());
    }

    @Test
    void badOptionsAreUsageErrors() {
        CliRun both = CliRun.of("inspect", "--model", model.toString(), "--adapter", tmp.toString(), "--lora-r", "8");
        assertEquals(2, both.exitCode(), both.describe());
        assertTrue(both.err().contains("exclude each other"), both.describe());
        CliRun module = CliRun.of("inspect", "--model", model.toString(), "--lora-r", "8", "--target-modules",
                "q_proj,qkv");
        assertEquals(2, module.exitCode(), module.describe());
        assertTrue(module.err().contains("'qkv' is not a Qwen2 projection"), module.describe());
        CliRun unknown = CliRun.of("inspect", "--model", model.toString(), "--lora-rank", "8");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.err().contains("unknown option --lora-rank"), unknown.describe());
        CliRun missing = CliRun.of("inspect", "--model", model.toString(), "--data",
                tmp.resolve("no.jsonl").toString());
        assertEquals(1, missing.exitCode(), missing.describe());
        assertTrue(missing.err().contains("no.jsonl: dataset file not found"), missing.describe());
    }

    /** Is there a line starting with {@code name} + space that holds every one of {@code parts}? */
    private static boolean has(List<String> lines, String name, String... parts) {
        return lines.stream().anyMatch(l -> (l.startsWith(name + " ") || l.contains("." + name + " "))
                && Arrays.stream(parts).allMatch(l::contains));
    }

    private static String section(String out, String from, String to) {
        int start = out.indexOf(from);
        assertTrue(start >= 0, "no '" + from + "' in:\n" + out);
        start = out.indexOf('\n', start) + 1;
        int end = to == null ? out.length() : out.indexOf(to, start);
        assertTrue(end >= 0, "no '" + to + "' in:\n" + out);
        return out.substring(start, end);
    }
}
