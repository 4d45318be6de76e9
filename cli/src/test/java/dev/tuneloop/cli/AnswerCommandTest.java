package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadPredictions;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tuneloop answer}: the answer alone as the last stdout line, the same as evaluate's, prompt warnings. */
class AnswerCommandTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path noise;
    static Path one;
    static SquadExample example;

    @BeforeAll
    static void tinyModel() throws Exception {
        model = Fixtures.tinyQwen(tmp, 13);
        noise = Fixtures.noiseAdapter(tmp, model, 17);
        one = Fixtures.devQuestions(tmp, "one.jsonl", 1);
        example = SquadReader.read(one, OnBadRecord.FAIL).examples().get(0);
    }

    @Test
    void printsTheAnswerEvaluateGivesForTheSameQuestion() throws Exception {
        Path predictions = tmp.resolve("one-predictions.json");
        CliRun evaluated = CliRun.of("evaluate", "--model", model.toString(), "--adapter", noise.toString(), "--data",
                one.toString(), "--out", predictions.toString(), "--max-new-tokens", "5");
        assertEquals(0, evaluated.exitCode(), evaluated.describe());
        String expected = SquadPredictions.read(predictions).get(example.id());
        assertFalse(expected.isBlank(), "the noise adapter answers in words");

        CliRun run = CliRun.of("answer", "--model", model.toString(), "--adapter", noise.toString(), "--question",
                example.question(), "--context", example.context(), "--max-new-tokens", "5");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(expected + "\n", run.out(), "stdout is the answer line alone");
        assertTrue(run.err().contains("new tokens"), run.describe());
    }

    @Test
    void missingContextInContextModeWarnsAndStillAnswers() {
        CliRun run = CliRun.of("answer", "--model", model.toString(), "--question", "Who won Super Bowl 50?",
                "--max-new-tokens", "3");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(1, run.out().lines().count(), run.describe());
        assertTrue(run.err().contains("warning: the prompt template shows a passage but no --context was given"),
                run.describe());
    }

    @Test
    void questionOnlyAdapterIgnoresTheContextAndSaysSo() throws Exception {
        Path adapter = Files.createDirectories(tmp.resolve("question-only"));
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors"}) {
            Files.copy(noise.resolve(f), adapter.resolve(f));
        }
        TrainConfig.builder("tiny", "train.jsonl", "eval.jsonl").maxSeqLen(128)
                .prompt(PromptTemplate.defaults(PromptMode.QUESTION_ONLY)).build().write(adapter.resolve(ServingPrompt.CONFIG_FILE));
        CliRun withoutContext = CliRun.of("answer", "--model", model.toString(), "--adapter", adapter.toString(),
                "--question", example.question(), "--max-new-tokens", "5");
        CliRun withContext = CliRun.of("answer", "--model", model.toString(), "--adapter", adapter.toString(),
                "--question", example.question(), "--context", example.context(), "--max-new-tokens", "5");
        assertEquals(0, withoutContext.exitCode(), withoutContext.describe());
        assertEquals(0, withContext.exitCode(), withContext.describe());
        assertFalse(withoutContext.err().contains("warning"), withoutContext.describe());
        assertTrue(withoutContext.err().contains("prompt mode question-only, max_seq_len 128"),
                withoutContext.describe());
        assertTrue(withContext.err().contains("--context is not shown to the model"), withContext.describe());
        assertEquals(withoutContext.out(), withContext.out(), "the passage does not reach a question-only prompt");
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        CliRun noQuestion = CliRun.of("answer", "--model", model.toString(), "--context", "x");
        assertEquals(2, noQuestion.exitCode(), noQuestion.describe());
        assertTrue(noQuestion.err().contains("missing required option --question"), noQuestion.describe());
        CliRun unknown = CliRun.of("answer", "--model", model.toString(), "--question", "q", "--ctx", "x");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.err().contains("unknown option --ctx"), unknown.describe());
        CliRun badMode = CliRun.of("answer", "--model", model.toString(), "--question", "q", "--prompt", "chat");
        assertEquals(2, badMode.exitCode(), badMode.describe());
        assertTrue(badMode.err().contains("prompt mode 'chat' is unknown"), badMode.describe());
        CliRun noTokenizer = CliRun.of("answer", "--model", Fixtures.tinyGolden().toString(), "--question", "q");
        assertEquals(1, noTokenizer.exitCode(), noTokenizer.describe());
        assertTrue(noTokenizer.err().contains("tokenizer.json"), noTokenizer.describe());
    }
}
