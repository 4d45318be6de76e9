package dev.tuneloop.model.text;

import java.util.Objects;
import java.util.Set;

/** One chat turn. Roles are Hugging Face's strings; tool turns are not supported. */
public record ChatMessage(String role, String content) {

    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    private static final Set<String> ROLES = Set.of(SYSTEM, USER, ASSISTANT);

    public ChatMessage {
        Objects.requireNonNull(role, "chat message role must not be null");
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException(
                    "chat message role '" + role + "' is not supported; expected one of system, user, assistant");
        }
        Objects.requireNonNull(content, () -> "content of the " + role + " message must not be null");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }
}
