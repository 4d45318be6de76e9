package dev.tuneloop.orchestrator.state;

import dev.tuneloop.contracts.StoredObject;
import java.time.Instant;
import java.util.Map;

/**
 * A checkpoint that could be served: saved (its adapter files are known) and evaluated on {@code evalSetId}.
 *
 * @param evaluatedAt when its evaluation happened (the event's {@code occurredAt})
 */
public record Candidate(String runId, String checkpoint, Map<String, StoredObject> files, double exactMatch,
        double f1, String evalSetId, Instant evaluatedAt) {
    public boolean isAdapterOf(Promotion promotion) {
        return promotion.runId().equals(runId) && promotion.adapter().checkpoint().equals(checkpoint);
    }
}
