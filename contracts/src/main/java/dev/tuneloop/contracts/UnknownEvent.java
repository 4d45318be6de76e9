package dev.tuneloop.contracts;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The payload of an event type this version does not know (a newer producer's). Consumers skip it instead of
 * dead-lettering it; re-encoding writes the payload back unchanged.
 */
public record UnknownEvent(@JsonValue JsonNode payload) implements EventPayload {
    public UnknownEvent {
        Check.present("UnknownEvent", "payload", payload);
        payload = payload.deepCopy();
    }
}
