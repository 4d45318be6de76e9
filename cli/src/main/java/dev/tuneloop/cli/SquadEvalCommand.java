package dev.tuneloop.cli;

import dev.tuneloop.model.squad.BadRecord;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadMetric;
import dev.tuneloop.model.squad.SquadPredictions;
import dev.tuneloop.model.squad.SquadReader;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code tuneloop squad-eval DATASET PREDICTIONS}: the official SQuAD v1.1 evaluation. The last line of stdout is
 * the official script's {@code {"exact_match": ..., "f1": ...}}; everything else goes to stderr.
 */
public final class SquadEvalCommand {
    private static final String USAGE = "squad-eval: usage: tuneloop squad-eval DATASET.json PREDICTIONS.json"
            + " [--skip-bad-records]\n  DATASET: official SQuAD v1.1 JSON, JSON Lines or a flat JSON array"
            + "\n  PREDICTIONS: {\"<question id>\": \"<answer>\", ...}";

    private SquadEvalCommand() {}

    public static int run(String[] argv) throws Exception {
        Args args = new Args("squad-eval", argv, Set.of("skip-bad-records"));
        boolean skipBad = args.flag("skip-bad-records");
        args.finish();
        List<String> files = args.positional();
        if (files.size() != 2) {
            throw new Args.UsageException(USAGE);
        }
        // By default a bad dataset record fails: scoring a silently smaller dataset would change the totals.
        SquadData dataset = SquadReader.read(Path.of(files.get(0)),
                skipBad ? OnBadRecord.SKIP : OnBadRecord.FAIL);
        for (BadRecord bad : dataset.badRecords()) {
            System.err.println("skipped bad record: " + bad);
        }
        for (BadRecord warning : dataset.warnings()) {
            System.err.println("warning: " + warning);
        }
        System.err.println("dataset " + files.get(0) + ": " + dataset.summary());
        Map<String, String> predictions = SquadPredictions.read(Path.of(files.get(1)));
        Set<String> ids = new HashSet<>();
        dataset.examples().forEach(e -> ids.add(e.id()));
        long unknown = predictions.keySet().stream().filter(id -> !ids.contains(id)).count();
        if (unknown > 0) {
            System.err.println("warning: " + unknown + " of " + predictions.size()
                    + " predictions are for ids not in the dataset (ignored)");
        }
        SquadMetric.Result result = SquadMetric.evaluate(dataset.examples(), predictions);
        System.out.println(result.toJson());
        return 0;
    }
}
