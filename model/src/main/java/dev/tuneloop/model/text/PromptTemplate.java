package dev.tuneloop.model.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;

/**
 * The SQuAD question-answering prompt: a system message and a user message filled from {@code userTemplate}.
 * Saved with every checkpoint ({@link #toJson()}) so that serving builds exactly the prompt the adapter was trained
 * on. JSON keys: {@code mode} ({@code "context"} or {@code "question-only"}), {@code system_prompt},
 * {@code user_template}.
 *
 * <p>{@code userTemplate} holds {@value #QUESTION} exactly once and, in {@link PromptMode#CONTEXT} mode,
 * {@value #CONTEXT} exactly once; in question-only mode it must not hold {@value #CONTEXT}. Placeholders are filled in
 * one pass, so a question or passage that itself contains "{question}" is inserted verbatim.
 */
public record PromptTemplate(PromptMode mode, String systemPrompt, String userTemplate) {

    public static final String CONTEXT = "{context}";
    public static final String QUESTION = "{question}";

    static final String KEY_MODE = "mode";
    static final String KEY_SYSTEM_PROMPT = "system_prompt";
    static final String KEY_USER_TEMPLATE = "user_template";
    private static final List<String> KEYS = List.of(KEY_MODE, KEY_SYSTEM_PROMPT, KEY_USER_TEMPLATE);

    private static final String DEFAULT_SYSTEM_PROMPT =
            "You are a helpful assistant that answers questions about a given text.";
    private static final String DEFAULT_CONTEXT_TEMPLATE =
            "Answer the question with a short span copied from the context.\n\n"
                    + "Context: " + CONTEXT + "\n\nQuestion: " + QUESTION;
    private static final String DEFAULT_QUESTION_ONLY_TEMPLATE =
            "Answer the question with a short answer.\n\nQuestion: " + QUESTION;

    public PromptTemplate {
        if (mode == null) {
            throw new IllegalArgumentException("prompt template " + KEY_MODE + " must not be null");
        }
        if (systemPrompt == null) {
            throw new IllegalArgumentException("prompt template " + KEY_SYSTEM_PROMPT + " must not be null");
        }
        if (userTemplate == null) {
            throw new IllegalArgumentException("prompt template " + KEY_USER_TEMPLATE + " must not be null");
        }
        for (String placeholder : List.of(CONTEXT, QUESTION)) {
            if (systemPrompt.contains(placeholder)) {
                throw new IllegalArgumentException("prompt template " + KEY_SYSTEM_PROMPT + " contains "
                        + placeholder + ", but placeholders are only filled in " + KEY_USER_TEMPLATE + ": "
                        + quote(systemPrompt));
            }
        }
        requireCount(userTemplate, QUESTION, 1, mode);
        requireCount(userTemplate, CONTEXT, mode == PromptMode.CONTEXT ? 1 : 0, mode);
    }

    public static PromptTemplate defaults(PromptMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("prompt template " + KEY_MODE + " must not be null");
        }
        return new PromptTemplate(mode, DEFAULT_SYSTEM_PROMPT,
                mode == PromptMode.CONTEXT ? DEFAULT_CONTEXT_TEMPLATE : DEFAULT_QUESTION_ONLY_TEMPLATE);
    }

    /** The user message for one question; {@code context} is required in context mode and ignored otherwise. */
    public String userMessage(String question, String context) {
        if (question == null) {
            throw new IllegalArgumentException("question must not be null");
        }
        if (mode == PromptMode.CONTEXT && context == null) {
            throw new IllegalArgumentException("context must not be null in prompt mode " + mode.jsonName());
        }
        StringBuilder out = new StringBuilder(userTemplate.length() + question.length()
                + (context == null ? 0 : context.length()));
        int i = 0;
        while (i < userTemplate.length()) {
            if (userTemplate.startsWith(QUESTION, i)) {
                out.append(question);
                i += QUESTION.length();
            } else if (mode == PromptMode.CONTEXT && userTemplate.startsWith(CONTEXT, i)) {
                out.append(context);
                i += CONTEXT.length();
            } else {
                out.append(userTemplate.charAt(i));
                i++;
            }
        }
        return out.toString();
    }

    /** System and user messages, without the assistant turn. */
    public List<ChatMessage> messages(String question, String context) {
        return List.of(ChatMessage.system(systemPrompt), ChatMessage.user(userMessage(question, context)));
    }

    public ObjectNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put(KEY_MODE, mode.jsonName());
        node.put(KEY_SYSTEM_PROMPT, systemPrompt);
        node.put(KEY_USER_TEMPLATE, userTemplate);
        return node;
    }

    /** Strict: every key required, values must be strings, unknown keys rejected by name. */
    public static PromptTemplate fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("prompt template must be a JSON object with keys " + KEYS
                    + ", got " + (node == null ? "nothing" : node.getNodeType()));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KEYS.contains(name)) {
                throw new IllegalArgumentException(
                        "prompt template has unknown key '" + name + "'; expected only " + KEYS);
            }
        }
        return new PromptTemplate(
                PromptMode.fromJsonName(text(node, KEY_MODE)), text(node, KEY_SYSTEM_PROMPT),
                text(node, KEY_USER_TEMPLATE));
    }

    private static String text(JsonNode node, String key) {
        JsonNode value = node.get(key);
        if (value == null) {
            throw new IllegalArgumentException("prompt template is missing key '" + key + "'");
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("prompt template key '" + key + "' must be a string, got "
                    + value.getNodeType() + " " + value);
        }
        return value.textValue();
    }

    private static void requireCount(String template, String placeholder, int expected, PromptMode mode) {
        int count = 0;
        int i = template.indexOf(placeholder);
        while (i >= 0) {
            count++;
            i = template.indexOf(placeholder, i + placeholder.length());
        }
        if (count != expected) {
            String rule = expected == 0 ? " must not contain " + placeholder : " must contain " + placeholder + " once";
            throw new IllegalArgumentException("prompt template " + KEY_USER_TEMPLATE + rule + " in mode "
                    + mode.jsonName() + ", found it " + count + " time(s): " + quote(template));
        }
    }

    private static String quote(String s) {
        String shown = s.length() > 120 ? s.substring(0, 120) + "…" : s;
        return "\"" + shown.replace("\n", "\\n") + "\"";
    }
}
