package dev.tuneloop.contracts;

import java.time.Instant;

/**
 * An event as it travels: {@code {"header": {...}, "payload": {...}}}. The header's type always matches the payload.
 */
public record EventEnvelope<P extends EventPayload>(EventHeader header, P payload) {
    public EventEnvelope {
        Check.present("EventEnvelope", "header", header);
        Check.present("EventEnvelope", "payload", payload);
        if (payload instanceof UnknownEvent) {
            if (EventType.byName(header.type()).isPresent()) {
                throw new IllegalArgumentException("EventEnvelope: header type " + header.type()
                        + " is a known type, its payload must not be an UnknownEvent");
            }
        } else {
            String payloadType = EventType.of(payload).typeName();
            if (!payloadType.equals(header.type())) {
                throw new IllegalArgumentException("EventEnvelope: header type " + header.type()
                        + " does not match payload type " + payloadType + " (event " + header.eventId() + ")");
            }
        }
    }

    /** A new event with a fresh id, at the payload type's current schema version. */
    public static <P extends EventPayload> EventEnvelope<P> create(String runId, Lineage lineage, P payload,
            Instant occurredAt) {
        return new EventEnvelope<>(EventHeader.create(EventType.of(payload), runId, lineage, occurredAt), payload);
    }

    /** The Kafka record key: the run id, or the served model for {@link AdapterPromoted}. */
    public String key() {
        return payload.partitionKey(header);
    }

    /** The topic this event is published to. */
    public String topic() {
        if (payload instanceof UnknownEvent) {
            throw new IllegalStateException(
                    "event type " + header.type() + " is unknown to this version, so is its topic");
        }
        return EventType.of(payload).topic();
    }
}
