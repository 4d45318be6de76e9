package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadMetric;
import dev.tuneloop.model.train.Evaluator;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.StepProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code tuneloop evaluate}: answers the examples of a dataset (all, or the fixed seeded sample training evaluates
 * on), writes the official predictions file {@code {id: answer}} and prints EM/F1. Without {@code --adapter} it scores
 * the base model. Bad dataset records are skipped (and listed on stderr) as in training, so {@code --limit} picks the
 * same sample as a training run's {@code --eval-limit}. The last stdout line is one JSON object:
 * {@code {"exact_match", "f1", "n", "total", "eval_set_id"}}.
 */
final class EvaluateCommand {
    static final String USAGE = "evaluate --model DIR [--adapter DIR] --data DATA [--limit N] --out PREDICTIONS.json"
            + " [--batch-size 8] [--max-new-tokens 32] [--max-seq-len N] [--prompt context|question-only]";
    private static final ObjectMapper JSON = new ObjectMapper();

    private EvaluateCommand() {}

    static int run(String[] argv) throws Exception {
        Args args = new Args("evaluate", argv, Set.of());
        String model = args.string("model");
        String adapter = args.has("adapter") ? args.string("adapter") : null;
        String data = args.string("data");
        Path out = args.path("out");
        Integer limit = args.has("limit") ? args.integer("limit", 0) : null;
        int batchSize = args.integer("batch-size", 8);
        int maxNewTokens = args.integer("max-new-tokens", 32);
        PromptOptions promptOptions = PromptOptions.read(args);
        args.finish();
        if (!args.positional().isEmpty()) {
            throw usage("unexpected argument '" + args.positional().get(0) + "'");
        }
        if (limit != null && limit < 1) {
            throw usage("--limit must be at least 1 (leave it out to evaluate every example), got " + limit);
        }
        if (batchSize < 1 || batchSize > 256) {
            throw usage("--batch-size must be in [1, 256], got " + batchSize);
        }
        if (maxNewTokens < 1 || maxNewTokens > 1024) {
            throw usage("--max-new-tokens must be in [1, 1024], got " + maxNewTokens);
        }
        if (Files.isDirectory(out)) {
            throw usage("--out " + out + " is a folder; expected the predictions file to write, e.g. "
                    + out.resolve("predictions.json"));
        }

        Path modelDir = ModelPaths.resolveModel(model);
        Path adapterDir = adapter == null ? null : ModelPaths.resolveAdapter(adapter);
        ServingPrompt prompt = promptOptions.apply(ServingPrompt.forAdapter(adapterDir));
        if (maxNewTokens >= prompt.maxSeqLen()) {
            throw usage("--max-new-tokens " + maxNewTokens + " leaves no room for the prompt in max_seq_len "
                    + prompt.maxSeqLen());
        }
        List<SquadExample> all = DataFiles.read(data, OnBadRecord.SKIP).examples();
        if (all.isEmpty()) {
            throw new IllegalArgumentException(data + ": no valid example to evaluate");
        }
        List<SquadExample> examples = Evaluator.sample(all, limit == null ? 0 : limit);
        if (limit != null && limit >= all.size()) {
            System.err.println("evaluate: --limit " + limit + " covers all " + all.size() + " examples");
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent); // fail now, not after the whole evaluation

        System.err.println("evaluate: " + (adapterDir == null ? "base model " + modelDir : "adapter " + adapterDir
                + " on " + modelDir) + "; " + prompt.describe());
        Evaluator.Outcome outcome;
        try (QaModel qa = QaModel.open(modelDir, ModelPaths.device())) {
            qa.useAdapter(adapterDir);
            QaAnswerer answerer = qa.answerer(prompt.template(), prompt.maxSeqLen(), maxNewTokens);
            StepProgress progress = new StepProgress("evaluate", 0, examples.size());
            outcome = Evaluator.evaluate(answerer, examples, batchSize, done -> progress.update(done, ""));
        }
        writeAtomically(out, JSON.writeValueAsBytes(outcome.predictions()));

        SquadMetric.Result r = outcome.result();
        String scope = examples.size() == all.size() ? "on all " + all.size() + " examples"
                : "on " + examples.size() + " of " + all.size() + " examples (fixed sample)";
        System.out.printf(Locale.ROOT, "exact_match %.2f  f1 %.2f  n %d  %s%n", r.exactMatch(), r.f1(), r.n(), scope);
        System.out.println("predictions: " + out.toAbsolutePath());
        ObjectNode line = JSON.createObjectNode();
        line.put("exact_match", r.exactMatch()).put("f1", r.f1()).put("n", r.n()).put("total", all.size())
                .put("eval_set_id", outcome.evalSetId());
        System.out.println(JSON.writeValueAsString(line));
        return 0;
    }

    /** UTF-8 bytes to a temporary sibling, then renamed over {@code file}: readers never see half a file. */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot write predictions file " + file + ": " + e.getMessage(), e);
        }
    }

    private static Args.UsageException usage(String message) {
        return new Args.UsageException("evaluate: " + message + " (usage: " + USAGE + ")");
    }
}
