package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.model.Shared;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tunes a tiny random Qwen2 (hidden 128, 2 layers) that uses the real Qwen2.5 tokenizer on 16 real SQuAD
 * examples until it has memorised them. The tiny model's embeddings have std 0.2 ({@link TinyModel}): LoRA cannot
 * change embeddings, norms or the tied head, and with the usual 0.02 the logits could not move far enough. With that
 * embedding as the tied head the untrained model predicts its own input token with a logit of ~25, so the first loss
 * is ~24 (not ln 151,936 ≈ 12); training ends near 0.002.
 *
 * <p>The configuration was measured, not guessed: with it, 22 of 22 runs (LoRA/batch-order seeds 1–8 with warm-up
 * 0.03 and 0.1, lr 0.8e-3 and 1.2e-3, tiny-model seeds 11 and 12) reached 100% train-set exact match at epoch 80.
 * <ul>
 *   <li>Question-only prompts: memorisation needs no passage, and a prompt of ~55 tokens instead of ~200 makes a step
 *       four times cheaper. One question per paragraph, since questions on one passage start alike.
 *   <li>LoRA r 64, alpha 256 (scaling 4) on all seven projections, lr 1e-3. The hard part is the first answer token,
 *       which the last prompt position (always {@code assistant\n}) must read from the question through attention.
 *       Scaling 1 needs lr 2e-3 with warm-up 0.1 and 240–320 steps; lr 3e-3 at scaling 1 or 1.5e-3 at scaling 4 gave
 *       gradient-norm spikes and runs stuck at 20–80%. At 60 epochs one seed in nine stopped at 81%; 80 leaves margin.
 *   <li>Batch 4 (4 steps an epoch), checkpoints every 40 epochs: baseline + two evaluations of the 16 examples.
 * </ul>
 */
class TrainerEndToEndTest {
    @TempDir
    static Path tmp;
    static Path model;
    static List<SquadExample> data;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        model = TinyModel.create(tmp.resolve("tiny"), Shared.qwenTokenizerDir(), 128, 2, 7);
        data = SquadReader.read(Shared.squad("train-proxy-36-articles.jsonl"), OnBadRecord.FAIL).examples().stream()
                .filter(distinctContexts()).limit(16).toList();
    }

    @Test
    void memorisesSixteenExamplesAndKeepsTheBestCheckpoint() throws Exception {
        Path run = tmp.resolve("run");
        TrainConfig config = config(model, 80, 40, 256);
        Trainer.Summary summary = new Trainer(config, model, data, data, run).run(false);

        List<JsonNode> metrics = MetricsLog.read(run.resolve("metrics.jsonl"));
        List<JsonNode> train = metrics.stream().filter(m -> m.get("type").asText().equals("train")).toList();
        List<JsonNode> evals = metrics.stream().filter(m -> m.get("type").asText().equals("eval")).toList();
        assertEquals(summary.steps(), train.size(), "one train line per optimizer step");
        double first = train.get(0).get("loss").asDouble();
        double last = train.get(train.size() - 1).get("loss").asDouble();
        assertTrue(last < first / 2, "training loss fell by more than half: " + first + " -> " + last);
        assertEquals("baseline", evals.get(0).get("checkpoint").asText());
        assertEquals(3, evals.size(), "baseline + epochs 40, 80");
        evals.forEach(e -> assertTrue(!e.has("loss"), "an eval line never uses the key loss"));
        assertTrue(summary.bestF1() != null && summary.bestF1() > 90, "train-set F1 " + summary.bestF1());
        double bestEm = evals.stream().filter(e -> e.get("checkpoint").asText().equals(summary.bestCheckpoint()))
                .findFirst().orElseThrow().get("exact_match").asDouble();
        assertTrue(bestEm > 90, "train-set exact match " + bestEm + " (it can memorise)");
        // run folder layout
        Path ckpt = run.resolve("checkpoints").resolve("epoch-0080");
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "tuneloop_config.json",
                "optimizer.safetensors", "trainer_state.json", "eval.json", "predictions.json")) {
            assertTrue(Files.exists(ckpt.resolve(f)), "checkpoint holds " + f);
        }
        assertEquals(summary.bestCheckpoint() + "\n", Files.readString(run.resolve("best/checkpoint.txt")));
        assertTrue(Files.exists(run.resolve("best/adapter_model.safetensors")));
        assertTrue(Files.exists(run.resolve("report.html")));
        assertEquals(config, TrainConfig.read(run.resolve("config.json")), "config saved with the run");
        assertEquals(config, TrainConfig.read(ckpt.resolve("tuneloop_config.json")), "and with each checkpoint");
    }

    @Test
    void aGenuineDivergenceStillStopsTheRun() {
        // LoRA scaling 1e38 / 64 makes the very first gradient infinite; the trainer recomputes a non-finite step once
        // (transient faults do not come back), and this one does, so the run must stop and name the step.
        TrainConfig config = config(model, 1, 0, 1e38);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Trainer(config, model, data, data, tmp.resolve("diverging")).evaluate(false).run(false));
        assertTrue(e.getMessage().startsWith("training diverged at step 1:"), e.getMessage());
    }

    /** One question per paragraph: the model tells examples apart by their question. */
    static Predicate<SquadExample> distinctContexts() {
        Set<String> seen = new HashSet<>();
        return e -> seen.add(e.context());
    }

    static TrainConfig config(Path model, int epochs, int saveEveryEpochs, double loraAlpha) {
        return TrainConfig.builder(model.toString(), "train.jsonl", "eval.jsonl").epochs(epochs).lr(1e-3)
                .warmupRatio(0.03).weightDecay(0.0).maxGradNorm(1.0).batchSize(4).gradAccum(1).loraR(64)
                .loraAlpha(loraAlpha).loraDropout(0.0).maxSeqLen(256).saveEveryEpochs(saveEveryEpochs)
                .saveEverySteps(0).evalLimit(0).evalMaxNewTokens(16).evalBatchSize(16)
                .prompt(PromptTemplate.defaults(PromptMode.QUESTION_ONLY)).onBadRecord(OnBadRecord.FAIL).seed(1)
                .recompute(false).build();
    }
}
