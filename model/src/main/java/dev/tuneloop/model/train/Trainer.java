package dev.tuneloop.model.train;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadMetric;
import dev.tuneloop.model.text.EncodedExample;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.QwenTokenizer;
import dev.tuneloop.model.text.SequenceTooLongException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LoRA fine-tuning of a Qwen2 model on SQuAD-style examples, with the run folder layout every tuneloop component
 * shares: {@code config.json}, {@code metrics.jsonl}, {@code report.html}, {@code checkpoints/<name>/}, {@code best/}.
 * The loop in {@link #run} reads top to bottom in nanoGPT's order.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainConfig config;
    private final Path modelDir;
    private final List<SquadExample> trainData;
    private final List<SquadExample> evalData;
    private final Path runDir;
    private Device device = Device.cpu();
    private boolean evaluate = true;
    private BooleanSupplier cancelled = () -> false;
    private Consumer<Path> onCheckpoint = dir -> {};
    private Consumer<StepMetrics> onStep = m -> {};

    public Trainer(TrainConfig config, Path modelDir, List<SquadExample> train, List<SquadExample> eval, Path runDir) {
        this.config = config;
        this.modelDir = modelDir;
        this.trainData = Evaluator.sample(train, config.trainLimit());
        this.evalData = eval;
        this.runDir = runDir;
    }

    public Trainer device(Device d) {
        this.device = d;
        return this;
    }

    /** Whether checkpoints (and the baseline) are evaluated here; services leave that to eval workers. */
    public Trainer evaluate(boolean on) {
        this.evaluate = on;
        return this;
    }

    public Trainer cancelWhen(BooleanSupplier c) {
        this.cancelled = c;
        return this;
    }

    /** Called with each checkpoint folder once it is complete (and evaluated, when evaluating). */
    public Trainer onCheckpoint(Consumer<Path> c) {
        this.onCheckpoint = c;
        return this;
    }

    /** Called after every optimizer step (services turn it into progress events). */
    public Trainer onStep(Consumer<StepMetrics> c) {
        this.onStep = c;
        return this;
    }

    public record StepMetrics(long step, long totalSteps, double epoch, double loss, double lr, double tokensPerS,
            double gradNorm) {}

    public record Summary(long steps, double finalLoss, Double baselineF1, String bestCheckpoint, Double bestF1,
            int trainExamples, int skippedTooLong, int truncated) {}

    /** Refuses a config the model cannot train: a {@code max-seq-len} beyond its {@code max_position_embeddings}. */
    public static void requireFits(TrainConfig config, Path modelDir) throws IOException {
        int maxPositions = Qwen2Config.load(modelDir).maxPositionEmbeddings();
        if (config.maxSeqLen() > maxPositions) {
            throw new IllegalArgumentException("--max-seq-len " + config.maxSeqLen() + " is more than the model's "
                    + "max_position_embeddings " + maxPositions + " (" + modelDir.resolve("config.json") + ")");
        }
    }

    /**
     * Trains from a fresh LoRA or from the config's init adapter, or with {@code resume} from the latest complete
     * checkpoint in the run folder (which takes precedence: it holds the trained weights and the optimizer state).
     * The run folder is written only once the config fits the model and the starting adapter has been loaded.
     */
    public Summary run(boolean resume) throws IOException {
        requireFits(config, modelDir);
        try (QwenTokenizer tokenizer = QwenTokenizer.load(modelDir);
                Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, device)) {
            ExampleEncoder encoder = new ExampleEncoder(tokenizer, config.prompt(), config.maxSeqLen());
            Encoded train = encode(encoder, trainData);
            LOG.info("train examples: {} encoded, {} with the context truncated to fit max-seq-len {}, {} skipped as"
                    + " too long even without context", train.examples.size(), train.truncated, config.maxSeqLen(),
                    train.skipped);
            if (train.examples.isEmpty()) {
                throw new IllegalArgumentException("no training example fits --max-seq-len " + config.maxSeqLen());
            }
            List<SquadExample> evalSet = Evaluator.sample(evalData, config.evalLimit());
            QaAnswerer answerer = new QaAnswerer(lm, tokenizer, encoder, eosIds(lm), config.evalMaxNewTokens());

            int microPerEpoch = ceilDiv(train.examples.size(), config.batchSize());
            int stepsPerEpoch = ceilDiv(microPerEpoch, config.gradAccum());
            int totalSteps = config.epochs() * stepsPerEpoch;
            LrSchedule schedule = new LrSchedule(config.lr(), (int) Math.ceil(config.warmupRatio() * totalSteps),
                    totalSteps);
            String dataSha = Evaluator.evalSetId(trainData);

            long step = 0;
            long resumedAt = -1;
            Optional<Path> latest = resume ? Checkpoints.latest(runDir) : Optional.empty();
            AdamW optimizer;
            LoraConfig lora; // the adapter's own config: saved with every checkpoint
            TrainConfig effective = config; // with the LoRA settings of the adapter the run starts from
            if (latest.isPresent()) {
                Checkpoints.State state = Checkpoints.readState(latest.get());
                if (!state.dataSha256().equals(dataSha) || state.totalSteps() != totalSteps) {
                    throw new IllegalStateException("cannot resume from " + latest.get() + ": the training data or"
                            + " schedule changed (data sha256 " + state.dataSha256() + " vs " + dataSha
                            + ", total steps " + state.totalSteps() + " vs " + totalSteps + ")");
                }
                lora = LoraAdapter.load(lm, latest.get(), true);
                effective = adopt(lora, "checkpoint " + latest.get());
                optimizer = new AdamW(LoraAdapter.parameters(lm), config.weightDecay(), lm.manager());
                Checkpoints.restoreOptimizer(latest.get(), optimizer);
                step = resumedAt = state.step();
                LOG.info("resuming from {} at step {}/{}", latest.get().getFileName(), step, totalSteps);
            } else if (config.initAdapter() != null) {
                lora = loadInitAdapter(lm, Path.of(config.initAdapter()));
                effective = adopt(lora, "init adapter " + config.initAdapter());
                optimizer = new AdamW(LoraAdapter.parameters(lm), config.weightDecay(), lm.manager());
                LOG.info("starting from init adapter {} (A and B as saved; a fresh optimizer)", config.initAdapter());
            } else {
                lora = config.lora();
                LoraAdapter.initialize(lm, lora, config.seed());
                optimizer = new AdamW(LoraAdapter.parameters(lm), config.weightDecay(), lm.manager());
            }
            Files.createDirectories(runDir);
            effective.write(runDir.resolve("config.json"));
            LOG.info(LoraAdapter.parameterLine(lm));
            Best best = Best.from(MetricsLog.read(runDir.resolve("metrics.jsonl")), step);
            StepProgress progress = new StepProgress("train step", step, totalSteps);
            double lastLoss = Double.NaN;
            try (MetricsLog metrics = new MetricsLog(runDir.resolve("metrics.jsonl"), step)) {
                List<int[]> plan = null;
                int planEpoch = -1;
                while (true) {
                    int epoch = (int) (step / stepsPerEpoch);
                    // 1. learning rate of this step
                    double lr = schedule.at((int) step);
                    // 2. evaluate and checkpoint when due: the base model at step 0, then every checkpoint
                    if (step == 0 && evaluate && best.baselineF1 == null) {
                        best.baselineF1 = evaluate(answerer, evalSet, metrics, 0, 0, "baseline", null).f1();
                    } else if (step > 0 && checkpointDue(step, stepsPerEpoch, totalSteps)) {
                        Path dir = runDir.resolve("checkpoints").resolve(
                                Checkpoints.name(step, (int) (step / stepsPerEpoch), step % stepsPerEpoch == 0));
                        if (step != resumedAt) {
                            dir = Checkpoints.save(runDir, dir.getFileName().toString(), lm, lora, effective,
                                    optimizer, new Checkpoints.State(step, (double) step / stepsPerEpoch, totalSteps,
                                            trainData.size(), dataSha));
                        }
                        if (evaluate && !Files.exists(dir.resolve(Checkpoints.EVAL))) {
                            var r = evaluate(answerer, evalSet, metrics, step, (double) step / stepsPerEpoch,
                                    dir.getFileName().toString(), dir);
                            if (best.offer(dir.getFileName().toString(), r.f1())) {
                                Checkpoints.promoteBest(runDir, dir);
                            }
                        }
                        onCheckpoint.accept(dir);
                    }
                    // 3. stop after the last step's checkpoint
                    if (step >= totalSteps) {
                        break;
                    }
                    if (cancelled.getAsBoolean()) {
                        throw new CancellationException("training cancelled at step " + step);
                    }
                    if (epoch != planEpoch) {
                        plan = BatchPlan.epoch(train.lengths(), config.batchSize(), config.seed(), epoch);
                        planEpoch = epoch;
                    }
                    // 4. micro-steps: forward + backward; gradients accumulate, normalised by the step's label count
                    long started = System.nanoTime();
                    int from = (int) (step % stepsPerEpoch) * config.gradAccum();
                    int to = Math.min(plan.size(), from + config.gradAccum());
                    List<TokenBatch> micro = new ArrayList<>();
                    for (int i = from; i < to; i++) {
                        List<EncodedExample> rows = new ArrayList<>();
                        for (int idx : plan.get(i)) {
                            rows.add(train.examples.get(idx));
                        }
                        micro.add(BatchPlan.collate(rows, tokenizer.tokenId("<|endoftext|>")));
                    }
                    int labelTokens = micro.stream().mapToInt(TokenBatch::labelCount).sum();
                    long tokens = micro.stream().mapToLong(b -> Arrays.stream(b.attentionMask()).sum()).sum();
                    double lossSum = forwardBackward(lm, micro, labelTokens, epoch, step);
                    // 5. clip the global gradient norm
                    double gradNorm = optimizer.clipGradNorm(config.maxGradNorm());
                    if (!Double.isFinite(gradNorm) || !Double.isFinite(lossSum)) {
                        // Same weights, batches and dropout seeds: a real divergence comes back when the step is
                        // recomputed, a transient fault does not. Such faults were measured here: about 1 backward
                        // pass in 2,000 gave NaN, zero or garbage gradients that a rerun did not (cause not found).
                        LOG.warn("step {}: loss {}, gradient norm {} not finite; recomputing the step once", step + 1,
                                lossSum / labelTokens, gradNorm);
                        optimizer.zeroGrad();
                        lossSum = forwardBackward(lm, micro, labelTokens, epoch, step);
                        gradNorm = optimizer.clipGradNorm(config.maxGradNorm());
                    }
                    if (!Double.isFinite(gradNorm) || !Double.isFinite(lossSum)) {
                        throw new IllegalStateException("training diverged at step " + (step + 1) + ": loss "
                                + lossSum / labelTokens + ", gradient norm " + gradNorm + " (try a lower --lr)");
                    }
                    // 6. optimizer step (zeroes the gradients)
                    optimizer.step(lr);
                    step++;
                    // 7. log
                    lastLoss = lossSum / labelTokens;
                    double seconds = (System.nanoTime() - started) / 1e9;
                    metrics.train(step, (double) step / stepsPerEpoch, lastLoss, lr, tokens / seconds, gradNorm);
                    onStep.accept(new StepMetrics(step, totalSteps, (double) step / stepsPerEpoch, lastLoss, lr,
                            tokens / seconds, gradNorm));
                    progress.update(step, String.format(Locale.ROOT, "epoch %.2f loss %.4f lr %.2e %.0f tok/s",
                            (double) step / stepsPerEpoch, lastLoss, lr, tokens / seconds));
                }
            }
            RunReport.write(runDir);
            return new Summary(totalSteps, lastLoss, best.baselineF1, best.name, best.f1, train.examples.size(),
                    train.skipped, train.truncated);
        }
    }

    /** Loads the init adapter as trainable weights; a missing folder or a misfit throws before anything changes. */
    private static LoraConfig loadInitAdapter(Qwen2ForCausalLM lm, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InitAdapterException("init adapter " + dir + " is not a folder", null);
        }
        try {
            return LoraAdapter.load(lm, dir, true);
        } catch (IOException | IllegalArgumentException e) {
            throw new InitAdapterException("init adapter: " + e.getMessage(), e);
        }
    }

    /**
     * The adapter's {@code adapter_config.json} decides the LoRA settings, as with PEFT's {@code from_pretrained}:
     * where the run's options differ, a warning names both values and the saved config records the adapter's.
     */
    private TrainConfig adopt(LoraConfig adapter, String source) {
        List<String> changes = config.loraChanges(adapter);
        if (!changes.isEmpty()) {
            LOG.warn("{}: its adapter_config.json decides the LoRA settings, not the run's options: {}", source,
                    String.join(", ", changes));
        }
        return config.withLoraOf(adapter);
    }

    /**
     * Fault injection for crash tests: with {@code TUNELOOP_PAUSE_AT=STEP:MICRO} (or the system property
     * {@code tuneloop.pauseAt}) the trainer announces on stderr and stops before that micro-step of that step, so a
     * test can SIGKILL the process at an exactly known point.
     */
    private static void pauseIfRequested(long step, int micro) {
        String at = System.getProperty("tuneloop.pauseAt", System.getenv("TUNELOOP_PAUSE_AT"));
        if (at != null && at.equals(step + ":" + micro)) {
            System.err.println("tuneloop: paused before micro-step " + micro + " of step " + step);
            System.err.flush();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Forward + backward over one step's micro-batches; returns the loss sum. */
    private double forwardBackward(Qwen2ForCausalLM lm, List<TokenBatch> micro, int labelTokens, int epoch,
            long step) {
        double lossSum = 0;
        for (int i = 0; i < micro.size(); i++) {
            pauseIfRequested(step + 1, i);
            lossSum += lm.forwardBackward(micro.get(i), 1.0 / labelTokens, config.recompute(),
                    dropoutSeed(config.seed(), epoch, step, i));
        }
        return lossSum;
    }

    private boolean checkpointDue(long step, int stepsPerEpoch, int totalSteps) {
        boolean epochEnd = step % stepsPerEpoch == 0;
        long epochsDone = step / stepsPerEpoch;
        return step == totalSteps
                || (epochEnd && config.saveEveryEpochs() > 0 && epochsDone % config.saveEveryEpochs() == 0)
                || (config.saveEverySteps() > 0 && step % config.saveEverySteps() == 0);
    }

    private SquadMetric.Result evaluate(QaAnswerer answerer, List<SquadExample> evalSet,
            MetricsLog metrics, long step, double epoch, String name, Path checkpoint) throws IOException {
        StepProgress progress = new StepProgress("eval " + name, 0, evalSet.size());
        Evaluator.Outcome out = Evaluator.evaluate(answerer, evalSet, config.evalBatchSize(),
                done -> progress.update(done, ""));
        var r = out.result();
        LOG.info(String.format(Locale.ROOT, "eval %s: exact_match %.2f f1 %.2f (n %d)", name, r.exactMatch(), r.f1(),
                r.n()));
        metrics.eval(step, epoch, name, r.exactMatch(), r.f1(), r.n(), out.evalSetId());
        if (checkpoint != null) {
            ObjectNode eval = JSON.createObjectNode();
            eval.put("checkpoint", name).put("step", step).put("epoch", epoch).put("exact_match", r.exactMatch())
                    .put("f1", r.f1()).put("n", r.n()).put("eval_set_id", out.evalSetId());
            Files.writeString(checkpoint.resolve("predictions.json"), JSON.writeValueAsString(out.predictions()));
            Checkpoints.writeEval(checkpoint, eval);
        }
        RunReport.write(runDir);
        return r;
    }

    private record Encoded(List<EncodedExample> examples, int truncated, int skipped) {
        int[] lengths() {
            return examples.stream().mapToInt(EncodedExample::length).toArray();
        }
    }

    private Encoded encode(ExampleEncoder encoder, List<SquadExample> data) {
        List<EncodedExample> out = new ArrayList<>();
        int truncated = 0;
        int skipped = 0;
        for (SquadExample e : data) {
            try {
                EncodedExample enc = encoder.encode(e.question(), e.context(), e.answers().get(0));
                truncated += enc.contextTruncated() ? 1 : 0;
                out.add(enc);
            } catch (SequenceTooLongException tooLong) {
                skipped++;
                LOG.warn("skipping example {}: {}", e.id(), tooLong.getMessage());
            }
        }
        return new Encoded(out, truncated, skipped);
    }

    private List<Long> eosIds(Qwen2ForCausalLM lm) throws IOException {
        return GenerationConfig.eosIds(modelDir, lm.config());
    }

    /** LoRA dropout masks derive from (seed, epoch, step, micro-step): nothing random needs saving to resume. */
    static long dropoutSeed(long seed, int epoch, long step, int micro) {
        long z = seed;
        for (long v : new long[] {epoch, step, micro}) {
            z = (z ^ v) * 0x9E3779B97F4A7C15L;
            z ^= z >>> 32;
        }
        return z;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Best checkpoint by eval F1 (ties: the earliest), never the baseline. */
    private static final class Best {
        Double baselineF1;
        String name;
        Double f1;

        static Best from(List<JsonNode> metrics, long upToStep) {
            Best b = new Best();
            for (JsonNode line : metrics) {
                if (!line.path("type").asText().equals("eval") || line.path("step").asLong() > upToStep) {
                    continue;
                }
                if (line.path("checkpoint").asText().equals("baseline")) {
                    b.baselineF1 = line.path("f1").asDouble();
                } else {
                    b.offer(line.path("checkpoint").asText(), line.path("f1").asDouble());
                }
            }
            return b;
        }

        boolean offer(String checkpoint, double score) {
            if (f1 == null || score > f1) {
                name = checkpoint;
                f1 = score;
                return true;
            }
            return false;
        }
    }
}
