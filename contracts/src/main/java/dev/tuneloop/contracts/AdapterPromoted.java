package dev.tuneloop.contracts;

import java.time.Instant;
import java.util.Map;

/**
 * A served model now uses this adapter. Keyed by {@code servedModel} on a compacted topic, so the latest promotion
 * per served model survives; the run that produced the adapter is the header's run id.
 *
 * @param servedModel the name clients ask for
 * @param generation increases by at least one with every promotion of this served model; servers ignore a
 *     promotion whose generation is not above the one they serve
 * @param checkpoint the checkpoint's name as in {@link CheckpointSaved}
 * @param files the adapter files, as in {@link CheckpointSaved#files()}
 * @param f1 the checkpoint's F1 (0–100); may be {@code null} only for a pinned adapter that was never evaluated
 * @param evalSetId the evaluation set of {@code f1}; {@code null} exactly when {@code f1} is
 * @param pinned true when an operator chose this adapter by hand; automatic promotion does not replace it
 * @param promotedAt when the decision was made
 */
public record AdapterPromoted(String servedModel, long generation, String checkpoint,
        Map<String, StoredObject> files, Double f1, String evalSetId, boolean pinned, Instant promotedAt)
        implements EventPayload {
    public AdapterPromoted {
        Check.name("AdapterPromoted", "servedModel", servedModel);
        Check.atLeast("AdapterPromoted", "generation", generation, 1);
        Check.name("AdapterPromoted", "checkpoint", checkpoint);
        files = AdapterFiles.require("AdapterPromoted", files, null);
        if (f1 == null) {
            if (!pinned) {
                throw new IllegalArgumentException(
                        "AdapterPromoted.f1 is required unless the adapter is pinned (servedModel " + servedModel + ")");
            }
            if (evalSetId != null) {
                throw new IllegalArgumentException("AdapterPromoted.evalSetId " + evalSetId + " given without f1");
            }
        } else {
            Check.range("AdapterPromoted", "f1", f1, 0, 100);
            Check.sha256("AdapterPromoted", "evalSetId", evalSetId);
        }
        Check.present("AdapterPromoted", "promotedAt", promotedAt);
    }

    @Override
    public String partitionKey(EventHeader header) {
        return servedModel;
    }
}
