package dev.tuneloop.contracts;

import java.util.Arrays;
import java.util.Optional;

/** Every event type: its name in {@link EventHeader#type()}, payload class, topic and current schema version. */
public enum EventType {
    TRAINING_REQUESTED(TrainingRequested.class, Topics.TRAINING_REQUESTED, 1),
    TRAINING_STARTED(TrainingStarted.class, Topics.RUN_EVENTS, 1),
    TRAINING_PROGRESSED(TrainingProgressed.class, Topics.RUN_EVENTS, 1),
    CHECKPOINT_SAVED(CheckpointSaved.class, Topics.CHECKPOINT_SAVED, 1),
    CHECKPOINT_EVALUATED(CheckpointEvaluated.class, Topics.CHECKPOINT_EVALUATED, 1),
    ADAPTER_PROMOTED(AdapterPromoted.class, Topics.ADAPTER_PROMOTED, 1),
    RUN_COMPLETED(RunCompleted.class, Topics.RUN_EVENTS, 1),
    RUN_FAILED(RunFailed.class, Topics.RUN_EVENTS, 1),
    RUN_CANCELLED(RunCancelled.class, Topics.RUN_EVENTS, 1),
    CANCEL_REQUESTED(CancelRequested.class, Topics.RUN_EVENTS, 1),
    RUN_DELETED(RunDeleted.class, Topics.RUN_EVENTS, 1);

    private final Class<? extends EventPayload> payloadClass;
    private final String topic;
    private final int schemaVersion;

    EventType(Class<? extends EventPayload> payloadClass, String topic, int schemaVersion) {
        this.payloadClass = payloadClass;
        this.topic = topic;
        this.schemaVersion = schemaVersion;
    }

    /** The name written into {@link EventHeader#type()}: the payload's simple class name. */
    public String typeName() {
        return payloadClass.getSimpleName();
    }

    public Class<? extends EventPayload> payloadClass() {
        return payloadClass;
    }

    public String topic() {
        return topic;
    }

    public int schemaVersion() {
        return schemaVersion;
    }

    /** The type named {@code typeName}, or empty for a type this version does not know. */
    public static Optional<EventType> byName(String typeName) {
        return Arrays.stream(values()).filter(t -> t.typeName().equals(typeName)).findFirst();
    }

    /** The type of a known payload; {@link UnknownEvent} has none. */
    public static EventType of(EventPayload payload) {
        return Arrays.stream(values())
                .filter(t -> t.payloadClass == payload.getClass())
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "no event type for payload class " + payload.getClass().getName()));
    }
}
