package dev.tuneloop.messaging;

/** An event the broker did not acknowledge in time; the job that produced it should be retried, not failed. */
public final class PublishException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
