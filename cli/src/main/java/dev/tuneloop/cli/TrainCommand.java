package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.JsonNode;
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

    /** The config from the options; defaults are tuneloop's ({@link TrainConfig#builder}), or with --resume the saved run's. */
    static TrainConfig parse(Args a, TrainConfig saved) {
        TrainConfig.Builder b = saved != null ? saved.toBuilder() : TrainConfig.builder(null, null, null);
        if (a.has("model")) b.model(a.string("model"));
        if (a.has("train")) b.trainData(a.string("train"));
        if (a.has("eval")) b.evalData(a.string("eval"));
        if (a.has("epochs")) b.epochs(a.integer("epochs", 0));
        if (a.has("lr")) b.lr(a.number("lr", 0));
        if (a.has("warmup-ratio")) b.warmupRatio(a.number("warmup-ratio", 0));
        if (a.has("weight-decay")) b.weightDecay(a.number("weight-decay", 0));
        if (a.has("max-grad-norm")) b.maxGradNorm(a.number("max-grad-norm", 0));
        if (a.has("batch-size")) b.batchSize(a.integer("batch-size", 0));
        if (a.has("grad-accum")) b.gradAccum(a.integer("grad-accum", 0));
        if (a.has("lora-r")) b.loraR(a.integer("lora-r", 0));
        if (a.has("lora-alpha")) b.loraAlpha(a.number("lora-alpha", 0));
        if (a.has("lora-dropout")) b.loraDropout(a.number("lora-dropout", 0));
        if (a.has("target-modules")) b.targetModules(a.list("target-modules", List.of()));
        if (a.has("max-seq-len")) b.maxSeqLen(a.integer("max-seq-len", 0));
        if (a.has("save-every-epochs")) b.saveEveryEpochs(a.integer("save-every-epochs", 0));
        if (a.has("save-every-steps")) b.saveEverySteps(a.integer("save-every-steps", 0));
        if (a.has("eval-limit")) b.evalLimit(a.integer("eval-limit", 0));
        if (a.has("eval-max-new-tokens")) b.evalMaxNewTokens(a.integer("eval-max-new-tokens", 0));
        if (a.has("eval-batch-size")) b.evalBatchSize(a.integer("eval-batch-size", 0));
        if (a.has("train-limit")) b.trainLimit(a.integer("train-limit", 0));
        if (a.has("seed")) b.seed(a.longValue("seed", 0));
        if (a.has("recompute")) b.recompute(bool(a, "recompute"));
        if (a.has("init-adapter")) b.initAdapter(initAdapter(a.path("init-adapter")));
        if (a.has("prompt")) {
            try {
                PromptMode mode = PromptMode.fromJsonName(a.string("prompt"));
                if (saved == null || saved.prompt().mode() != mode) {
                    b.prompt(PromptTemplate.defaults(mode));
                }
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("train: --prompt: " + e.getMessage());
            }
        }
        if (a.has("prompt-template")) {
            if (a.has("prompt")) {
                throw new Args.UsageException("train: give --prompt or --prompt-template, not both");
            }
            Path file = a.path("prompt-template");
            try {
                b.prompt(PromptTemplate.fromJson(new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(Files.readString(file))));
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw new Args.UsageException("train: --prompt-template " + file + ": " + e.getMessage());
            }
        }
        if (a.has("on-bad-record")) {
            String bad = a.string("on-bad-record");
            if (!bad.equals("skip") && !bad.equals("fail")) {
                throw new Args.UsageException("train: --on-bad-record must be skip or fail, got '" + bad + "'");
            }
            b.onBadRecord(OnBadRecord.valueOf(bad.toUpperCase(Locale.ROOT)));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("train: " + e.getMessage());
        }
    }

    /** A PEFT adapter folder to start from; checked here so a typo fails before the model loads. */
    private static String initAdapter(Path dir) {
        if (!Files.isRegularFile(dir.resolve("adapter_config.json"))) {
            throw new Args.UsageException("train: --init-adapter " + dir + " is not a PEFT adapter folder (no"
                    + " adapter_config.json" + (Files.isDirectory(dir) ? " in it)" : "; the folder does not exist)"));
        }
        return dir.toAbsolutePath().normalize().toString();
    }

    private static boolean bool(Args a, String name) {
        String v = a.string(name);
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
