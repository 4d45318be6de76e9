package dev.tuneloop.inference.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** OpenAI's response bodies: a chat completion, its streamed chunks, and the model list. */
public final class ChatResponses {
    private ChatResponses() {}

    public record ChatCompletion(String id, String object, long created, String model,
            @JsonProperty("system_fingerprint") String systemFingerprint, List<Choice> choices, Usage usage) {}

    public record Choice(int index, AssistantMessage message, Object logprobs,
            @JsonProperty("finish_reason") String finishReason) {}

    public record AssistantMessage(String role, String content) {}

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
            @JsonProperty("completion_tokens") int completionTokens,
            @JsonProperty("total_tokens") int totalTokens) {}

    /** One server-sent event of a streamed completion. */
    public record Chunk(String id, String object, long created, String model,
            @JsonProperty("system_fingerprint") String systemFingerprint, List<ChunkChoice> choices) {}

    public record ChunkChoice(int index, Delta delta, Object logprobs,
            @JsonProperty("finish_reason") String finishReason) {}

    /** Fields left out when null: the first chunk carries the role, the others content. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {}

    public record ModelList(String object, List<ModelCard> data) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
            String description) {}
}
