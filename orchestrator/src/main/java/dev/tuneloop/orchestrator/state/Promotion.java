package dev.tuneloop.orchestrator.state;

import dev.tuneloop.contracts.AdapterPromoted;
import java.util.UUID;

/** An {@link AdapterPromoted} event with the run it names (the event header's run id). */
public record Promotion(String runId, AdapterPromoted adapter, UUID eventId) {
    /** Orders promotions of one served model: higher generation wins, then later decision, then event id. */
    boolean supersedes(Promotion other) {
        int byGeneration = Long.compare(adapter.generation(), other.adapter.generation());
        if (byGeneration != 0) {
            return byGeneration > 0;
        }
        int byTime = adapter.promotedAt().compareTo(other.adapter.promotedAt());
        return byTime != 0 ? byTime > 0 : eventId.compareTo(other.eventId) > 0;
    }
}
