package dev.tuneloop.orchestrator;

/** A command refused for a reason the caller can fix; the REST layer turns {@link Kind} into a status code. */
public final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public enum Kind { INVALID, NOT_FOUND, CONFLICT }

    private final Kind kind;
    private final String field;

    private CommandException(Kind kind, String field, String message) {
        super(message);
        this.kind = kind;
        this.field = field;
    }

    /** A request field has a value the command cannot use. */
    public static CommandException invalid(String field, String message) {
        return new CommandException(Kind.INVALID, field, message);
    }

    public static CommandException notFound(String message) {
        return new CommandException(Kind.NOT_FOUND, null, message);
    }

    /** The request is fine but the state does not allow it now. */
    public static CommandException conflict(String message) {
        return new CommandException(Kind.CONFLICT, null, message);
    }

    public Kind kind() {
        return kind;
    }

    /** The request field at fault; {@code null} if none is. */
    public String field() {
        return field;
    }
}
