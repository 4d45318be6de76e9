package dev.tuneloop.contracts;

/**
 * A command to train a run (its id is in the header).
 *
 * @param modelId base model, a Hugging Face id
 * @param modelRevision base model revision (commit or tag)
 * @param trainDataUri training examples ({@code s3://} or an allow-listed {@code https://} URL)
 * @param evalDataUri evaluation examples
 * @param hyperParameters training settings
 * @param initAdapter optional: an adapter folder prefix to start from instead of a fresh LoRA; {@code null} if none
 */
public record TrainingRequested(String modelId, String modelRevision, String trainDataUri, String evalDataUri,
        HyperParameters hyperParameters, String initAdapter) implements EventPayload {
    public TrainingRequested {
        Check.text("TrainingRequested", "modelId", modelId);
        Check.text("TrainingRequested", "modelRevision", modelRevision);
        Check.text("TrainingRequested", "trainDataUri", trainDataUri);
        Check.text("TrainingRequested", "evalDataUri", evalDataUri);
        Check.present("TrainingRequested", "hyperParameters", hyperParameters);
        if (initAdapter != null) {
            Check.text("TrainingRequested", "initAdapter", initAdapter);
        }
    }
}
