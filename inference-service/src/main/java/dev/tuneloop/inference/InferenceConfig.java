package dev.tuneloop.inference;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Everything the inference service is configured with, under {@code tuneloop.inference.*}; checked at start-up. */
@ConfigMapping(prefix = "tuneloop.inference")
public interface InferenceConfig {
    /**
     * The base model: a local Hugging Face folder, a hub id ({@code Qwen/Qwen2.5-0.5B-Instruct[@revision]}, fetched
     * into the Hugging Face cache once; {@code HF_HOME}, {@code HF_TOKEN}, {@code HF_HUB_OFFLINE} honoured), or
     * {@code tiny} (a random tiny Qwen2 made once under {@link #cacheDir()}, for demos).
     */
    @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
    String model();

    /** The name clients use for the base model without an adapter; default: the {@link #model()} value. */
    Optional<String> baseModelName();

    /** The name clients ask for to get the promoted adapter; promotions are keyed by it. */
    @WithDefault("qwen-squad")
    String servedModel();

    /** {@code cpu} (the tested path), {@code gpu}, {@code gpu1}, … */
    @WithDefault("cpu")
    String device();

    /** Where {@code tiny} is made and cached. */
    @WithDefault("${user.home}/.cache/tuneloop")
    String cacheDir();

    /** {@code ../shared/} with the Qwen2.5 tokenizer; only {@code tiny} needs it. */
    @WithDefault("../shared")
    String sharedDir();

    /** Adapters are downloaded here, read into memory, and the files deleted. */
    @WithDefault("${java.io.tmpdir}/tuneloop-inference")
    String workDir();

    /** A promotion whose files add up to more is refused before downloading. */
    @WithDefault("536870912")
    long maxAdapterBytes();

    Storage storage();

    Batching batching();

    Limits limits();

    /** The object store the adapters' {@code s3://} URIs point into. */
    interface Storage {
        @WithDefault("http://localhost:9000")
        String endpoint();

        String accessKey();

        String secretKey();

        Optional<String> region();

        /** A bucket name for the client's settings; the promoted URIs name their own bucket. */
        @WithDefault("tuneloop")
        String bucket();
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
