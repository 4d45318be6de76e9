package dev.tuneloop.orchestrator.messaging;

/** An event could not be written to Kafka in time; the command that wanted it did not happen. */
public final class PublishException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
