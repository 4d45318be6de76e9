package dev.tuneloop.contracts;

/**
 * The run stopped on an error.
 *
 * @param stage where it failed, e.g. {@code download}, {@code train}, {@code checkpoint}, {@code evaluate}
 * @param reason the error message a user can act on
 */
public record RunFailed(String stage, String reason) implements EventPayload {
    public RunFailed {
        Check.text("RunFailed", "stage", stage);
        Check.text("RunFailed", "reason", reason);
    }
}
