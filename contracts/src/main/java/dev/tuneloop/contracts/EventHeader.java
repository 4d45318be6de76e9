package dev.tuneloop.contracts;

import java.time.Instant;
import java.util.UUID;

/**
 * The envelope part every event carries.
 *
 * @param eventId unique per event; consumers de-duplicate redeliveries by it
 * @param type the payload's type name, e.g. {@code CheckpointSaved} (see {@link EventType})
 * @param schemaVersion version of the payload's schema; additive changes bump it, consumers ignore unknown fields,
 *     and a breaking change gets a new topic ({@code .v2}) instead
 * @param occurredAt when the fact happened (ISO-8601 in JSON)
 * @param runId the run the event belongs to; the Kafka key on every topic but {@link Topics#ADAPTER_PROMOTED}
 * @param lineage dataset and base model of the run and the tuneloop version of the producer
 */
public record EventHeader(UUID eventId, String type, int schemaVersion, Instant occurredAt, String runId,
        Lineage lineage) {
    public EventHeader {
        Check.present("EventHeader", "eventId", eventId);
        Check.text("EventHeader", "type", type);
        Check.atLeast("EventHeader", "schemaVersion", schemaVersion, 1);
        Check.present("EventHeader", "occurredAt", occurredAt);
        Check.name("EventHeader", "runId", runId);
        Check.present("EventHeader", "lineage", lineage);
    }

    /** A header for a new event of {@code type} at the type's current schema version. */
    public static EventHeader create(EventType type, String runId, Lineage lineage, Instant occurredAt) {
        return new EventHeader(UUID.randomUUID(), type.typeName(), type.schemaVersion(), occurredAt, runId, lineage);
    }
}
