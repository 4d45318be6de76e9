package dev.tuneloop.contracts;

/**
 * Where a run's artifacts come from, repeated on every event so that any single event can be traced back.
 *
 * @param datasetSha256 sha256 (hex) of the training data file; {@code null} while the producer does not know it yet
 *     (a {@code TrainingRequested} for data nobody has hashed, a {@code CancelRequested} from the CLI)
 * @param baseModelId Hugging Face model id, e.g. {@code Qwen/Qwen2.5-0.5B-Instruct}; {@code null} if unknown to the producer
 * @param baseModelRevision commit or tag of the base model; {@code null} if unknown to the producer
 * @param tuneloopVersion version of the tuneloop build that produced the event
 */
public record Lineage(String datasetSha256, String baseModelId, String baseModelRevision, String tuneloopVersion) {
    public Lineage {
        Check.optionalSha256("Lineage", "datasetSha256", datasetSha256);
        if (baseModelId != null) {
            Check.text("Lineage", "baseModelId", baseModelId);
        }
        if (baseModelRevision != null) {
            Check.text("Lineage", "baseModelRevision", baseModelRevision);
        }
        Check.text("Lineage", "tuneloopVersion", tuneloopVersion);
    }

    /** Lineage of a producer that knows nothing about the run but its own version. */
    public static Lineage unknown(String tuneloopVersion) {
        return new Lineage(null, null, null, tuneloopVersion);
    }
}
