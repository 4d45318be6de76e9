package dev.tuneloop.orchestrator.state;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * When to promote a checkpoint automatically. Pure: the same promotion and candidates give the same decision.
 *
 * <ul>
 *   <li>An adapter pinned by hand stays until it is unpinned.</li>
 *   <li>Otherwise the best candidate evaluated on the promoted adapter's eval set replaces it when its F1 (0–100)
 *       is above the promoted F1 plus {@code margin}. Candidates on other eval sets never compete: their scores are
 *       not comparable.</li>
 *   <li>With nothing promoted yet, the best candidate on the eval set of the most recent evaluation is promoted.</li>
 * </ul>
 * "Above" is strict, so two checkpoints with the same F1 never replace each other back and forth.
 *
 * @param margin F1 points a candidate must gain over the promoted adapter, >= 0
 */
public record PromotionPolicy(double margin) {
    /** Best F1 first; on a tie the earlier evaluation, then run id and checkpoint name, so the choice is stable. */
    private static final Comparator<Candidate> BEST_FIRST = Comparator.comparingDouble(Candidate::f1).reversed()
            .thenComparing(Candidate::evaluatedAt)
            .thenComparing(Candidate::runId)
            .thenComparing(Candidate::checkpoint);

    public PromotionPolicy {
        if (!(Double.isFinite(margin) && margin >= 0 && margin <= 100)) {
            throw new IllegalArgumentException("promotion margin must be in [0, 100] F1 points, got " + margin);
        }
    }

    /** What to do about {@code current} (empty when nothing is promoted) given every candidate. */
    public Decision decide(Optional<Promotion> current, List<Candidate> candidates) {
        if (current.isEmpty()) {
            Optional<String> latestEvalSet = candidates.stream()
                    .max(Comparator.comparing(Candidate::evaluatedAt).thenComparing(Candidate::evalSetId))
                    .map(Candidate::evalSetId);
            return latestEvalSet
                    .flatMap(evalSet -> best(candidates, evalSet, null))
                    .<Decision>map(c -> new Decision.Promote(c, "nothing promoted yet; best F1 "
                            + c.f1() + " on eval set " + c.evalSetId()))
                    .orElse(new Decision.Keep("nothing promoted and no evaluated checkpoint"));
        }
        Promotion promoted = current.get();
        if (promoted.adapter().pinned()) {
            return new Decision.Keep("the promoted adapter " + describe(promoted) + " is pinned");
        }
        double promotedF1 = promoted.adapter().f1();
        String evalSet = promoted.adapter().evalSetId();
        Optional<Candidate> best = best(candidates, evalSet, promoted);
        if (best.isEmpty()) {
            return new Decision.Keep("no other checkpoint is evaluated on eval set " + evalSet);
        }
        Candidate c = best.get();
        if (c.f1() > promotedF1 + margin) {
            return new Decision.Promote(c, "F1 " + c.f1() + " beats the promoted " + promotedF1 + " by more than "
                    + margin + " on eval set " + evalSet);
        }
        return new Decision.Keep("best candidate " + c.runId() + "/" + c.checkpoint() + " F1 " + c.f1()
                + " does not beat the promoted " + promotedF1 + " by more than " + margin);
    }

    private static Optional<Candidate> best(List<Candidate> candidates, String evalSet, Promotion exclude) {
        return candidates.stream()
                .filter(c -> c.evalSetId().equals(evalSet))
                .filter(c -> exclude == null || !c.isAdapterOf(exclude))
                .min(BEST_FIRST);
    }

    private static String describe(Promotion p) {
        return p.runId() + "/" + p.adapter().checkpoint() + " (generation " + p.adapter().generation() + ")";
    }

    /** The outcome, with a reason a log line or an operator can read. */
    public sealed interface Decision {
        String reason();

        record Keep(String reason) implements Decision {}

        record Promote(Candidate candidate, String reason) implements Decision {}
    }
}
