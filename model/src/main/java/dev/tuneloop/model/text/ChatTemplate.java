package dev.tuneloop.model.text;

import java.util.List;

/**
 * Qwen2.5's ChatML, rendered as the {@code chat_template} of its {@code tokenizer_config.json} renders it when no
 * tools are given:
 *
 * <pre>
 * &lt;|im_start|&gt;system\n{system}&lt;|im_end|&gt;\n
 * &lt;|im_start|&gt;user\n{user}&lt;|im_end|&gt;\n
 * &lt;|im_start|&gt;assistant\n{assistant}&lt;|im_end|&gt;\n
 * &lt;|im_start|&gt;assistant\n            (only with add_generation_prompt)
 * </pre>
 *
 * A conversation that does not start with a system message gets {@link #DEFAULT_SYSTEM_PROMPT}; a system message
 * later in the conversation is rendered as an ordinary turn, as the template does.
 */
public final class ChatTemplate {

    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    /** Inserted by the Qwen2.5 template when the first message is not a system message. */
    public static final String DEFAULT_SYSTEM_PROMPT =
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    private ChatTemplate() {}

    /** The prompt text; tokenize it with special tokens recognised (as {@link QwenTokenizer#encode} does). */
    public static String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("a chat needs at least one message, got none");
        }
        StringBuilder out = new StringBuilder();
        boolean firstIsSystem = messages.get(0).role().equals(ChatMessage.SYSTEM);
        if (!firstIsSystem) {
            appendTurn(out, ChatMessage.SYSTEM, DEFAULT_SYSTEM_PROMPT);
        }
        for (ChatMessage message : messages) {
            appendTurn(out, message.role(), message.content());
        }
        if (addGenerationPrompt) {
            out.append(IM_START).append(ChatMessage.ASSISTANT).append('\n');
        }
        return out.toString();
    }

    private static void appendTurn(StringBuilder out, String role, String content) {
        out.append(IM_START).append(role).append('\n').append(content).append(IM_END).append('\n');
    }
}
