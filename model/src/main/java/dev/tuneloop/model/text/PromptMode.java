package dev.tuneloop.model.text;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Whether the SQuAD prompt shows the passage ({@code context}) or only the question ({@code question-only}). */
public enum PromptMode {
    CONTEXT("context"),
    QUESTION_ONLY("question-only");

    private final String jsonName;

    PromptMode(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    public static PromptMode fromJsonName(String name) {
        for (PromptMode mode : values()) {
            if (mode.jsonName.equals(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("prompt mode '" + name + "' is unknown; expected one of "
                + Arrays.stream(values()).map(PromptMode::jsonName).collect(Collectors.joining(", ")));
    }
}
