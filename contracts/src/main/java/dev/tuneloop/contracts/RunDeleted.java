package dev.tuneloop.contracts;

/**
 * A finished run and its objects were deleted on request. Consumers that rebuild state from the topics forget the
 * run, including checkpoint events of it that they read later.
 *
 * @param requestedBy who asked (user or service name)
 * @param objectsDeleted how many objects under the run's folder were removed from the object store
 */
public record RunDeleted(String requestedBy, long objectsDeleted) implements EventPayload {
    public RunDeleted {
        Check.text("RunDeleted", "requestedBy", requestedBy);
        Check.atLeast("RunDeleted", "objectsDeleted", objectsDeleted, 0);
    }
}
