package dev.tuneloop.contracts;

/**
 * The body of an event; {@link EventEnvelope} pairs it with its {@link EventHeader}. Payload fields added later must
 * be nullable (or boxed) so that older messages without them still decode.
 */
public sealed interface EventPayload
        permits TrainingRequested, TrainingStarted, TrainingProgressed, CheckpointSaved, CheckpointEvaluated,
                AdapterPromoted, RunCompleted, RunFailed, RunCancelled, CancelRequested, RunDeleted, UnknownEvent {

    /** The Kafka record key: the run id, except where a payload is keyed by something else. */
    default String partitionKey(EventHeader header) {
        return header.runId();
    }
}
