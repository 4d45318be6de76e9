package dev.tuneloop.contracts;

/**
 * A worker took the run.
 *
 * @param workerId the worker (pod) name
 * @param attempt 1 for the first try, counting up on every restart
 * @param resumedFromStep optimizer step restored from a checkpoint; 0 for a fresh start
 */
public record TrainingStarted(String workerId, int attempt, long resumedFromStep) implements EventPayload {
    public TrainingStarted {
        Check.text("TrainingStarted", "workerId", workerId);
        Check.atLeast("TrainingStarted", "attempt", attempt, 1);
        Check.atLeast("TrainingStarted", "resumedFromStep", resumedFromStep, 0);
    }
}
