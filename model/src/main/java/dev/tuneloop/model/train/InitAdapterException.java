package dev.tuneloop.model.train;

/**
 * The adapter a run should start from ({@link TrainConfig#initAdapter()}) is missing, unreadable or does not fit the
 * base model; thrown before anything is written to the run folder. The message names the folder and, for a misfit,
 * the tensor with its expected and actual shape.
 */
public final class InitAdapterException extends IllegalArgumentException {
    public InitAdapterException(String message, Throwable cause) {
        super(message, cause);
    }
}
