package dev.tuneloop.storage;

/** A location that is well-formed but outside what this deployment may touch. */
public final class PolicyViolationException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String location;
    private final String rule;

    public PolicyViolationException(String location, String rule) {
        super("location '" + location + "' is not allowed: " + rule);
        this.location = location;
        this.rule = rule;
    }

    public String location() {
        return location;
    }

    public String rule() {
        return rule;
    }
}
