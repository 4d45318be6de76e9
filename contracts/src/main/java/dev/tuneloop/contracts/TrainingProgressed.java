package dev.tuneloop.contracts;

/**
 * A progress report after an optimizer step. A non-finite loss is not progress: the run fails with
 * {@link RunFailed} instead.
 *
 * @param step optimizer steps completed, from 1
 * @param epoch the epoch the step belongs to, from 1
 * @param loss mean training loss of the step
 * @param lr learning rate used for the step
 * @param tokensPerS training throughput
 */
public record TrainingProgressed(long step, int epoch, double loss, double lr, double tokensPerS)
        implements EventPayload {
    public TrainingProgressed {
        Check.atLeast("TrainingProgressed", "step", step, 1);
        Check.atLeast("TrainingProgressed", "epoch", epoch, 1);
        Check.finite("TrainingProgressed", "loss", loss);
        Check.range("TrainingProgressed", "lr", lr, 0, Double.MAX_VALUE);
        Check.range("TrainingProgressed", "tokensPerS", tokensPerS, 0, Double.MAX_VALUE);
    }
}
