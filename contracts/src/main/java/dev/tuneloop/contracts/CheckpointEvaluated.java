package dev.tuneloop.contracts;

/**
 * SQuAD scores of one checkpoint.
 *
 * @param checkpoint the checkpoint's name as in {@link CheckpointSaved}
 * @param exactMatch exact match, 0–100
 * @param f1 token F1, 0–100
 * @param evalSetId sha256 (hex) of the evaluated examples; scores are only comparable under the same id
 * @param n number of examples evaluated
 */
public record CheckpointEvaluated(String checkpoint, double exactMatch, double f1, String evalSetId, int n)
        implements EventPayload {
    public CheckpointEvaluated {
        Check.name("CheckpointEvaluated", "checkpoint", checkpoint);
        Check.range("CheckpointEvaluated", "exactMatch", exactMatch, 0, 100);
        Check.range("CheckpointEvaluated", "f1", f1, 0, 100);
        Check.sha256("CheckpointEvaluated", "evalSetId", evalSetId);
        Check.atLeast("CheckpointEvaluated", "n", n, 1);
    }
}
