package dev.tuneloop.contracts;

/**
 * The worker stopped the run after a {@link CancelRequested}.
 *
 * @param reason the reason given in the request
 * @param lastStep optimizer steps completed when the run stopped
 */
public record RunCancelled(String reason, long lastStep) implements EventPayload {
    public RunCancelled {
        Check.text("RunCancelled", "reason", reason);
        Check.atLeast("RunCancelled", "lastStep", lastStep, 0);
    }
}
