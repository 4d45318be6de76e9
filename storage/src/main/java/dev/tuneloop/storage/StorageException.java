package dev.tuneloop.storage;

import java.io.IOException;

/** A storage call that failed for good: names the operation, the URI, the attempts and the server's answer. */
public class StorageException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String uri;
    private final int httpStatus;
    private final String errorCode;
    private final int attempts;

    public StorageException(String operation, String uri, int attempts, int httpStatus, String errorCode,
            String detail, Throwable cause) {
        super(operation + " " + uri + " failed" + (attempts > 1 ? " after " + attempts + " attempts" : "") + ": "
                + detail, cause);
        this.operation = operation;
        this.uri = uri;
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
        this.attempts = attempts;
    }

    public String operation() {
        return operation;
    }

    public String uri() {
        return uri;
    }

    /** The HTTP status of the last answer, 0 if there was none (connection failure, local I/O). */
    public int httpStatus() {
        return httpStatus;
    }

    /** The S3 error code of the last answer (e.g. {@code NoSuchKey}), or {@code null}. */
    public String errorCode() {
        return errorCode;
    }

    public int attempts() {
        return attempts;
    }
}
