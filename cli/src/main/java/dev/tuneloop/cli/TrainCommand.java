package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.train.TrainConfig;
import dev.tuneloop.model.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** {@code tuneloop train}: LoRA fine-tuning on SQuAD-style data in one process. */
final class TrainCommand {
    private TrainCommand() {}

    static int run(String[] argv) throws Exception {
        Args args = new Args("train", argv, Set.of("resume"));
        Path out = args.path("out");
        boolean resume = args.flag("resume");
        TrainConfig saved = null;
        if (resume) {
            if (!Files.exists(out.resolve("config.json"))) {
                throw new Args.UsageException("train: --resume needs a run folder with config.json, " + out + " has none");
            }
            saved = TrainConfig.read(out.resolve("config.json"));
        } else if (Files.isDirectory(out) && !isEmpty(out)) {
            throw new Args.UsageException("train: output folder " + out
                    + " is not empty; pass --resume to continue that run, or choose another --out");
        }
        TrainConfig config = parse(args, saved);
        args.finish();
        if (saved != null && !saved.equals(config)) {
            throw new Args.UsageException("train: --resume with options that differ from the run's config.json: "
                    + differences(saved, config));
        }
        Path modelDir = ModelPaths.resolveModel(config.model());
        SquadData train = DataFiles.read(config.trainData(), config.onBadRecord());
        SquadData eval = DataFiles.read(config.evalData(), config.onBadRecord());
        Trainer.Summary s = new Trainer(config, modelDir, train.examples(), eval.examples(), out)
                .device(ModelPaths.device()).run(resume);
        System.out.printf(Locale.ROOT, "trained %d steps on %d examples (%d with truncated context, %d skipped as too"
                + " long); final loss %.4f%n", s.steps(), s.trainExamples(), s.truncated(), s.skippedTooLong(),
                s.finalLoss());
        if (s.bestCheckpoint() != null) {
            System.out.printf(Locale.ROOT, "eval F1: baseline %s -> best %.2f (%s)%n",
                    s.baselineF1() == null ? "n/a" : String.format(Locale.ROOT, "%.2f", s.baselineF1()), s.bestF1(),
                    s.bestCheckpoint());
        }
        System.out.println("run folder: " + out.toAbsolutePath() + " (report: " + out.resolve("report.html") + ")");
        return 0;
    }

    /** The config from the options; defaults are tuneloop's, or with --resume the saved run's. */
    static TrainConfig parse(Args a, TrainConfig d) {
        PromptMode mode;
        try {
            mode = PromptMode.fromJsonName(a.string("prompt", d != null ? d.prompt().mode().jsonName() : "context"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("train: --prompt: " + e.getMessage());
        }
        PromptTemplate prompt = d != null && d.prompt().mode() == mode ? d.prompt() : PromptTemplate.defaults(mode);
        String bad = a.string("on-bad-record", d != null ? d.onBadRecord().name().toLowerCase(Locale.ROOT) : "skip");
        if (!bad.equals("skip") && !bad.equals("fail")) {
            throw new Args.UsageException("train: --on-bad-record must be skip or fail, got '" + bad + "'");
        }
        try {
            return new TrainConfig(
                    a.string("model", d != null ? d.model() : null),
                    a.string("train", d != null ? d.trainData() : null),
                    a.string("eval", d != null ? d.evalData() : null),
                    a.integer("epochs", d != null ? d.epochs() : 3),
                    a.number("lr", d != null ? d.lr() : 2e-4),
                    a.number("warmup-ratio", d != null ? d.warmupRatio() : 0.03),
                    a.number("weight-decay", d != null ? d.weightDecay() : 0.0),
                    a.number("max-grad-norm", d != null ? d.maxGradNorm() : 1.0),
                    a.integer("batch-size", d != null ? d.batchSize() : 4),
                    a.integer("grad-accum", d != null ? d.gradAccum() : 4),
                    a.integer("lora-r", d != null ? d.loraR() : 8),
                    a.number("lora-alpha", d != null ? d.loraAlpha() : 16),
                    a.number("lora-dropout", d != null ? d.loraDropout() : 0.05),
                    a.list("target-modules", d != null ? d.targetModules() : LoraConfig.ALL_MODULES),
                    a.integer("max-seq-len", d != null ? d.maxSeqLen() : 512),
                    a.integer("save-every-epochs", d != null ? d.saveEveryEpochs() : 1),
                    a.integer("save-every-steps", d != null ? d.saveEverySteps() : 0),
                    a.integer("eval-limit", d != null ? d.evalLimit() : 200),
                    a.integer("eval-max-new-tokens", d != null ? d.evalMaxNewTokens() : 32),
                    a.integer("eval-batch-size", d != null ? d.evalBatchSize() : 8),
                    prompt,
                    OnBadRecord.valueOf(bad.toUpperCase(Locale.ROOT)),
                    a.longValue("seed", d != null ? d.seed() : 42),
                    bool(a, "recompute", d == null || d.recompute()),
                    a.integer("train-limit", d != null ? d.trainLimit() : 0));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("train: " + e.getMessage());
        }
    }

    private static boolean bool(Args a, String name, boolean fallback) {
        String v = a.string(name, Boolean.toString(fallback));
        if (!v.equals("true") && !v.equals("false")) {
            throw new Args.UsageException("train: --" + name + " must be true or false, got '" + v + "'");
        }
        return Boolean.parseBoolean(v);
    }

    private static String differences(TrainConfig saved, TrainConfig given) {
        List<String> diffs = new ArrayList<>();
        JsonNode a = saved.toJson();
        JsonNode b = given.toJson();
        for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!a.get(k).equals(b.get(k))) {
                diffs.add(k + " " + a.get(k) + " -> " + b.get(k));
            }
        }
        return String.join(", ", diffs);
    }

    private static boolean isEmpty(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
