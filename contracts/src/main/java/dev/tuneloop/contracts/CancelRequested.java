package dev.tuneloop.contracts;

/**
 * A command to stop a run. It travels on {@link Topics#RUN_EVENTS}, keyed by run id, so the worker sees it in order
 * with the run's other events.
 *
 * @param requestedBy who asked (user or service name)
 * @param reason why
 */
public record CancelRequested(String requestedBy, String reason) implements EventPayload {
    public CancelRequested {
        Check.text("CancelRequested", "requestedBy", requestedBy);
        Check.text("CancelRequested", "reason", reason);
    }
}
