package dev.tuneloop.orchestrator.state;

/** Where a run is, derived from its events on {@code tuneloop.run-events.v1} (and whether it was requested). */
public enum RunStatus {
    /** {@code TrainingRequested} seen, no worker has started it. */
    REQUESTED,
    /** A worker sent {@code TrainingStarted}. */
    RUNNING,
    /** {@code CancelRequested} seen; the worker has not confirmed yet. */
    CANCELLING,
    COMPLETED,
    FAILED,
    CANCELLED,
    /** Only events of a run whose {@code TrainingRequested} has not (yet) been seen. */
    UNKNOWN;

    public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
