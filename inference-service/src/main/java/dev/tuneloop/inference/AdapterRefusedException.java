package dev.tuneloop.inference;

/** A promoted adapter that will not be served; the message names the file, the value and what was expected. */
public final class AdapterRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why, as the {@code reason} tag of the failed-swap metric. */
    public enum Reason {
        CHECKSUM, MISSING_FILE, SIZE, TOO_LARGE, DOES_NOT_FIT, BAD_CONFIG, STORAGE,
        /** a file outside the configured bucket and prefixes ({@code tuneloop.storage.allowed-prefixes}) */
        NOT_ALLOWED
    }

    private final Reason reason;

    public AdapterRefusedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
