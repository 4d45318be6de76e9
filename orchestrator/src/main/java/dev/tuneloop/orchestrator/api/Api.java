package dev.tuneloop.orchestrator.api;

/** Constants shared by the request bodies. */
final class Api {
    /** Run ids end up in S3 keys and Kafka keys: the contracts' safe-name rule. */
    static final String RUN_ID = "(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}";
    static final String RUN_ID_MESSAGE =
            "must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit, without '..'";
    /** Who asked, when a request does not say. */
    static final String DEFAULT_REQUESTER = "api";

    private Api() {}
}
