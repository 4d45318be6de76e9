package dev.tuneloop.inference;

import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.text.ChatMessage;
import dev.tuneloop.model.text.ChatTemplate;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.QwenTokenizer;
import dev.tuneloop.model.text.SequenceTooLongException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the HTTP API does, without HTTP: picks the snapshot a request is bound to, builds its prompt (the training
 * prompt for answers, ChatML for chats), checks the limits, queues it on the {@link Batcher} and turns ids back into
 * text. Thread-safe.
 */
public final class ModelServer {

    /**
     * @param maxPromptTokens   longest prompt accepted
     * @param maxTokens         largest {@code max_tokens} accepted
     * @param defaultMaxTokens  {@code max_tokens} of a chat that does not say
     * @param answerMaxTokens   new tokens of a {@code /v1/answer}
     */
    public record Limits(int maxPromptTokens, int maxTokens, int defaultMaxTokens, int answerMaxTokens) {
        public Limits {
            if (maxPromptTokens < 1 || maxTokens < 1 || defaultMaxTokens < 1 || defaultMaxTokens > maxTokens
                    || answerMaxTokens < 1 || answerMaxTokens > maxTokens) {
                throw new IllegalArgumentException("limits must be positive, with default-max-tokens and"
                        + " answer-max-tokens within max-tokens: " + this);
            }
        }
    }

    public record Answer(String text, ServedAdapter adapter, int promptTokens, int completionTokens) {}

    public record Chat(List<ChatMessage> messages, Integer maxTokens, Sampling sampling, List<String> stop) {}

    /** Why generation ended, as OpenAI names it. */
    public enum FinishReason {
        STOP, LENGTH
    }

    public record ChatResult(String text, ServedAdapter adapter, int promptTokens, int completionTokens,
            FinishReason finishReason) {}

    private final QwenTokenizer tokenizer;
    private final Batcher batcher;
    private final String servedModel;
    private final Supplier<ServedAdapter> promoted;
    private final Supplier<ServedAdapter> promotedForRequests;
    private final ServedAdapter base;
    private final String baseModelName;
    private final Set<Long> stopIds;
    private final Limits limits;

    /**
     * @param servedModel         the name that stands for the promoted adapter
     * @param promoted            the promoted adapter now, {@code null} while none is (e.g.
     *                            {@link PromotionFollower#current})
     * @param promotedForRequests the same for binding a request accepted now; may wait a bounded time for a promotion
     *                            being prepared (e.g. {@link PromotionFollower#currentForRequest})
     */
    public ModelServer(QwenTokenizer tokenizer, Batcher batcher, String servedModel, Supplier<ServedAdapter> promoted,
            Supplier<ServedAdapter> promotedForRequests, ServedAdapter base, String baseModelName, List<Long> stopIds,
            Limits limits) {
        this.tokenizer = tokenizer;
        this.batcher = batcher;
        this.servedModel = servedModel;
        this.promoted = promoted;
        this.promotedForRequests = promotedForRequests;
        this.base = base;
        this.baseModelName = baseModelName;
        this.stopIds = Set.copyOf(stopIds);
        this.limits = limits;
    }

    /** The served name (the promoted adapter, or the base model while none is) and the base model's name. */
    public List<String> modelNames() {
        return List.of(servedModel, baseModelName);
    }

    public String servedModel() {
        return servedModel;
    }

    public String baseModelName() {
        return baseModelName;
    }

    public Batcher batcher() {
        return batcher;
    }

    public ServedAdapter base() {
        return base;
    }

    /** What the served name stands for now: the promoted adapter, or the base model while none is promoted. */
    public ServedAdapter current() {
        return orBase(promoted.get());
    }

    private ServedAdapter forRequest() {
        return orBase(promotedForRequests.get());
    }

    private ServedAdapter orBase(ServedAdapter promotedNow) {
        return promotedNow == null ? base : promotedNow;
    }

    /**
     * The snapshot a request for {@code model} accepted now is bound to (the served name may wait for a promotion
     * being prepared); 404 naming the known models otherwise.
     */
    public ServedAdapter select(String model) {
        if (model == null || model.equals(servedModel)) {
            return forRequest();
        }
        if (model.equals(baseModelName)) {
            return base;
        }
        throw new InvalidRequestException(404, "model", "model '" + model + "' does not exist here; known models: "
                + modelNames());
    }

    /** A SQuAD answer from the promoted adapter with the prompt it was trained on (greedy). */
    public Answer answer(String question, String context) {
        if (question == null || question.isBlank()) {
            throw InvalidRequestException.field("question", "question is required and must not be blank");
        }
        ServedAdapter adapter = forRequest();
        long[] prompt;
        try {
            ExampleEncoder encoder = new ExampleEncoder(tokenizer, adapter.prompt().template(),
                    adapter.prompt().maxSeqLen());
            prompt = encoder.encodePrompt(question, context, limits.answerMaxTokens());
        } catch (SequenceTooLongException e) {
            throw InvalidRequestException.field("question", e.getMessage());
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            throw InvalidRequestException.field(message.startsWith("context") ? "context" : "question", message);
        }
        checkPrompt("question", prompt.length);
        Batcher.Job job = batcher.submit(prompt, limits.answerMaxTokens(), Sampling.GREEDY, adapter, null);
        Batcher.Completion done = await(job);
        return new Answer(tokenizer.decodeSkippingSpecial(done.tokens()).strip(), done.adapter(), prompt.length,
                done.tokens().length);
    }

    /** A chat started: {@link #await} it; {@code deltas} (if given) sees the text as it becomes final. */
    public final class ChatCall {
        private final Batcher.Job job;
        private final TextStream stream;
        private final int promptTokens;
        private final int maxTokens;
        private final Consumer<String> deltas;

        private ChatCall(Chat chat, ServedAdapter adapter, Consumer<String> deltas) {
            List<ChatMessage> messages = chat.messages();
            if (messages == null || messages.isEmpty()) {
                throw InvalidRequestException.field("messages", "messages must hold at least one message");
            }
            for (int i = 0; i < messages.size(); i++) {
                for (String special : tokenizer.specialTokens()) {
                    if (messages.get(i).content().contains(special)) {
                        throw InvalidRequestException.field("messages[" + i + "].content", "messages[" + i
                                + "].content contains the special token " + special
                                + ", which would break the chat structure");
                    }
                }
            }
            maxTokens = chat.maxTokens() == null ? limits.defaultMaxTokens() : chat.maxTokens();
            if (maxTokens < 1 || maxTokens > limits.maxTokens()) {
                throw InvalidRequestException.field("max_tokens", "max_tokens " + maxTokens
                        + " is outside [1, " + limits.maxTokens() + "] (limit max-tokens " + limits.maxTokens() + ")");
            }
            long[] prompt = tokenizer.encode(ChatTemplate.render(messages, true));
            checkPrompt("messages", prompt.length);
            promptTokens = prompt.length;
            this.deltas = deltas;
            this.stream = new TextStream(tokenizer, chat.stop() == null ? List.of() : chat.stop());
            this.job = batcher.submit(prompt, maxTokens, chat.sampling(), adapter, this::onToken);
        }

        private boolean onToken(long token) {
            String delta = stream.push(token);
            if (deltas != null && !delta.isEmpty()) {
                deltas.accept(delta);
            }
            return !stream.stopped();
        }

        public int promptTokens() {
            return promptTokens;
        }

        public ServedAdapter adapter() {
            return job.adapter();
        }

        /** True once generation ended (all deltas but a held-back tail have been delivered). */
        public boolean done() {
            return job.result().isDone();
        }

        /** Stops generating (the client went away). */
        public void cancel() {
            job.cancel();
        }

        /** Blocks until the chat ended; the last delta (a held-back tail) has been delivered when this returns. */
        public ChatResult await() {
            Batcher.Completion done = ModelServer.await(job);
            String rest = stream.finish();
            if (deltas != null && !rest.isEmpty()) {
                deltas.accept(rest);
            }
            long[] tokens = done.tokens();
            boolean stoppedById = tokens.length > 0 && stopIds.contains(tokens[tokens.length - 1]);
            FinishReason reason = stream.stopped() || stoppedById ? FinishReason.STOP : FinishReason.LENGTH;
            return new ChatResult(stream.text(), done.adapter(), promptTokens, tokens.length, reason);
        }
    }

    /**
     * Checks and queues a chat for {@code model}.
     *
     * @throws InvalidRequestException 400/404 naming the field
     * @throws Batcher.OverloadedException when the queue is full
     */
    public ChatCall chat(String model, Chat chat, Consumer<String> deltas) {
        return new ChatCall(chat, select(model), deltas);
    }

    private void checkPrompt(String param, int tokens) {
        if (tokens > limits.maxPromptTokens()) {
            throw InvalidRequestException.field(param, "the prompt has " + tokens + " tokens, more than the limit"
                    + " max-prompt-tokens " + limits.maxPromptTokens());
        }
    }

    private static Batcher.Completion await(Batcher.Job job) {
        try {
            return job.result().get();
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the model");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("generation failed: " + cause, cause);
        }
    }
}
