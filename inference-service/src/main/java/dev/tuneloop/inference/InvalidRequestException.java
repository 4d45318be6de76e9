package dev.tuneloop.inference;

/**
 * A request the server will not run: 400 (a field's value), 404 (an unknown model) or 413 (too large). The message
 * names the field, the value and the limit.
 *
 * @see dev.tuneloop.inference.api.ErrorMappers
 */
public final class InvalidRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String param;

    public InvalidRequestException(int status, String param, String message) {
        super(message);
        this.status = status;
        this.param = param;
    }

    public static InvalidRequestException field(String param, String message) {
        return new InvalidRequestException(400, param, message);
    }

    public int status() {
        return status;
    }

    /** The request field at fault ({@code messages[1].content}), or {@code null}. */
    public String param() {
        return param;
    }
}
