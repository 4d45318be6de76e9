package dev.tuneloop.inference;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * The inference service's own settings, under {@code tuneloop.inference.*}; checked at start-up. The shared ones are
 * {@link dev.tuneloop.config.ModelConfig} ({@code tuneloop.model.*}: the base model, loaded once; {@code tiny} needs
 * {@code tuneloop.model.tokenizer-dir}), {@link dev.tuneloop.config.DeviceConfig} ({@code tuneloop.device}) and
 * {@link dev.tuneloop.config.StorageConfig} ({@code tuneloop.storage.*}: where the adapters' {@code s3://} URIs point).
 */
@ConfigMapping(prefix = "tuneloop.inference")
public interface InferenceConfig {
    /** The name clients use for the base model without an adapter; default: {@code tuneloop.model.location}. */
    Optional<String> baseModelName();

    /** The name clients ask for to get the promoted adapter; promotions are keyed by it. */
    @WithDefault("qwen-squad")
    String servedModel();

    /** Adapters are downloaded here, read into memory, and the files deleted. */
    @WithDefault("${java.io.tmpdir}/tuneloop-inference")
    String workDir();

    /**
     * A promotion whose files add up to more is refused before downloading. While an adapter is prepared its
     * {@code adapter_model.safetensors} sits on the Java heap beside the float arrays read from it (for an F32 file
     * about twice its size at the peak): size the heap for it.
     */
    @WithDefault("536870912")
    long maxAdapterBytes();

    /**
     * A request for the served name accepted while a promotion is being prepared waits up to this long for it, so it
     * is answered by the adapter promoted before it arrived (and does not start a batch on the old one that the new
     * one would wait for); after that it is bound to the adapter still served. {@code 0}: never waits. A prefetched
     * promotion swaps in microseconds; a cold one in ~50-150 ms on the benchmark machine (docs/benchmarks.md).
     */
    @WithDefault("500ms")
    Duration swapHold();

    Batching batching();

    Limits limits();

    Prefetch prefetch();

    interface Prefetch {
        /**
         * Follow the checkpoint topics and prepare a checkpoint evaluated better than the served adapter before its
         * promotion, so the swap does not wait for the download.
         */
        @WithDefault("true")
        boolean enabled();

        /** Prepared candidates held (each the size of its adapter's arrays in memory); the oldest is evicted. */
        @WithDefault("2")
        int maxCandidates();
    }

    interface Batching {
        /** Requests generated together in one forward pass per token. */
        @WithDefault("8")
        int maxBatchSize();

        /** How long the oldest request waits for others to join its batch. */
        @WithDefault("10ms")
        Duration maxWait();

        /** Requests waiting beyond this many get 429 with Retry-After. */
        @WithDefault("64")
        int maxQueue();

        /** Bound on batch size × (longest prompt + largest max_tokens): KV cache and attention memory. */
        @WithDefault("16384")
        long maxBatchTokens();

        /** The Retry-After of a 429 (queue full) in seconds. */
        @WithDefault("1")
        int retryAfterSeconds();
    }

    interface Limits {
        /** Request bodies above this many bytes get 413. */
        @WithDefault("1048576")
        long maxBodyBytes();

        /** Longer prompts get 400. */
        @WithDefault("2048")
        int maxPromptTokens();

        /** A larger {@code max_tokens} gets 400. */
        @WithDefault("512")
        int maxTokens();

        /** {@code max_tokens} of a chat that does not say. */
        @WithDefault("256")
        int defaultMaxTokens();

        /** New tokens of a {@code /v1/answer} (greedy, stops at the end of the turn). */
        @WithDefault("64")
        int answerMaxTokens();
    }
}
