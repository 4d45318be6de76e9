package dev.tuneloop.inference.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.inference.InvalidRequestException;
import dev.tuneloop.inference.ModelServer;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.text.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * OpenAI's chat completion request. Honoured: model, messages, max_tokens / max_completion_tokens, temperature
 * (0 = greedy; OpenAI's default 1), top_p, stop, stream, seed. OpenAI fields that change nothing here are ignored
 * (listed in {@link JsonIgnoreProperties}); fields that would change the output are accepted only at their default
 * value (n, penalties, logit_bias, logprobs, response_format, tools) and otherwise refused by name; any other field is
 * a 400 naming it.
 */
@JsonIgnoreProperties({"user", "metadata", "store", "service_tier", "stream_options", "parallel_tool_calls",
        "modalities", "prediction", "reasoning_effort", "verbosity", "prompt_cache_key", "safety_identifier",
        "web_search_options"})
public record ChatRequest(
        String model,
        List<Message> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        JsonNode stop,
        Boolean stream,
        Long seed,
        Integer n,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("logit_bias") JsonNode logitBias,
        Boolean logprobs,
        @JsonProperty("top_logprobs") Integer topLogprobs,
        @JsonProperty("response_format") JsonNode responseFormat,
        JsonNode tools,
        @JsonProperty("tool_choice") JsonNode toolChoice) {

    /** @param name accepted and ignored, as OpenAI documents it for participants */
    public record Message(String role, JsonNode content, String name) {}

    private static final int MAX_STOPS = 4;

    public boolean streaming() {
        return Boolean.TRUE.equals(stream);
    }

    /** The checked chat; 400 naming the field otherwise. */
    public ModelServer.Chat toChat() {
        if (model == null || model.isBlank()) {
            throw InvalidRequestException.field("model", "model is required");
        }
        onlyDefault("n", n == null || n == 1, "only n = 1 is supported");
        onlyDefault("frequency_penalty", frequencyPenalty == null || frequencyPenalty == 0, "penalties are not"
                + " supported (only 0)");
        onlyDefault("presence_penalty", presencePenalty == null || presencePenalty == 0, "penalties are not"
                + " supported (only 0)");
        onlyDefault("logit_bias", empty(logitBias), "logit_bias is not supported");
        onlyDefault("logprobs", logprobs == null || !logprobs, "logprobs are not supported");
        onlyDefault("top_logprobs", topLogprobs == null || topLogprobs == 0, "logprobs are not supported");
        onlyDefault("response_format", responseFormat == null || responseFormat.isNull()
                || "text".equals(responseFormat.path("type").asText()), "only response_format {\"type\": \"text\"}"
                + " is supported");
        onlyDefault("tools", empty(tools), "tools are not supported");
        onlyDefault("tool_choice", toolChoice == null || toolChoice.isNull()
                || (toolChoice.isTextual() && List.of("none", "auto").contains(toolChoice.asText())),
                "tools are not supported");
        return new ModelServer.Chat(chatMessages(), tokens(), sampling(), stops());
    }

    private List<ChatMessage> chatMessages() {
        if (messages == null || messages.isEmpty()) {
            throw InvalidRequestException.field("messages", "messages must hold at least one message");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            String field = "messages[" + i + "]";
            if (m == null) {
                throw InvalidRequestException.field(field, field + " is null");
            }
            try {
                out.add(new ChatMessage(m.role(), text(field + ".content", m.content())));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw InvalidRequestException.field(field + ".role", field + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** A string, or OpenAI's array of {@code {"type": "text", "text": …}} parts (joined). */
    private static String text(String field, JsonNode content) {
        if (content == null || content.isNull()) {
            throw InvalidRequestException.field(field, field + " is required");
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < content.size(); i++) {
                JsonNode part = content.get(i);
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw InvalidRequestException.field(field + "[" + i + "]", field + "[" + i + "]: only text"
                            + " parts {\"type\": \"text\", \"text\": …} are supported, got " + part);
                }
                out.append(part.get("text").asText());
            }
            return out.toString();
        }
        throw InvalidRequestException.field(field, field + " must be a string or an array of text parts, got "
                + content.getNodeType());
    }

    private Integer tokens() {
        if (maxTokens != null && maxCompletionTokens != null && !maxTokens.equals(maxCompletionTokens)) {
            throw InvalidRequestException.field("max_completion_tokens", "max_tokens " + maxTokens
                    + " and max_completion_tokens " + maxCompletionTokens + " disagree; give one");
        }
        return maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
    }

    private Sampling sampling() {
        double t = temperature == null ? 1.0 : temperature;
        double p = topP == null ? 1.0 : topP;
        if (!(t >= 0 && t <= 2)) {
            throw InvalidRequestException.field("temperature", "temperature " + t + " must be in [0, 2]");
        }
        if (!(p > 0 && p <= 1)) {
            throw InvalidRequestException.field("top_p", "top_p " + p + " must be in (0, 1]");
        }
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        return t == 0 ? Sampling.GREEDY : new Sampling(t, p, s);
    }

    private List<String> stops() {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            stop.forEach(s -> out.add(s.isTextual() ? s.asText() : null));
        }
        if (out.isEmpty() && !stop.isArray() || out.size() > MAX_STOPS || out.contains(null)
                || out.stream().anyMatch(s -> s != null && s.isEmpty())) {
            throw InvalidRequestException.field("stop", "stop must be a non-empty string or an array of at most "
                    + MAX_STOPS + " non-empty strings, got " + stop);
        }
        return out;
    }

    private static boolean empty(JsonNode node) {
        return node == null || node.isNull() || (node.isContainerNode() && node.isEmpty());
    }

    private static void onlyDefault(String field, boolean isDefault, String message) {
        if (!isDefault) {
            throw InvalidRequestException.field(field, field + ": " + message);
        }
    }
}
