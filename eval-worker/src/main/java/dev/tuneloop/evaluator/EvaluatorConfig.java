package dev.tuneloop.evaluator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The eval worker's settings ({@code tuneloop.evaluator.*}); Kafka's address is {@code kafka.bootstrap.servers}. */
@ConfigMapping(prefix = "tuneloop.evaluator")
public interface EvaluatorConfig {
    Model model();

    /** Local scratch space for a checkpoint's adapter files and eval data, emptied after each checkpoint. */
    @WithDefault("${java.io.tmpdir}/tuneloop-evaluator")
    Path workDir();

    /** DJL device: {@code cpu}, {@code gpu}, {@code gpu1}, … (CPU fp32 is the tested path). */
    @WithDefault("cpu")
    String device();

    /**
     * At most this many eval examples per checkpoint (the run's fixed seeded sample of that size when it asks for
     * more or for all); 0 = as many as the run asks for.
     */
    @WithDefault("200")
    int evalLimit();

    /** Names this worker in Kafka client ids; default {@code $HOSTNAME}. */
    Optional<String> workerId();

    Storage storage();

    Messaging messaging();

    /** The base model, loaded once per process; checkpoints of runs on another base model fail. */
    interface Model {
        /**
         * A local folder, a Hugging Face hub id ({@code owner/name[@revision]}, downloaded once into the Hugging Face
         * cache; {@code HF_*} variables honoured), or {@code tiny} (a tiny random Qwen2 made once into
         * {@link #cacheDir()} from {@link #tokenizerDir()}).
         */
        @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
        String location();

        /** The model's Hugging Face id, compared with the checkpoint's lineage. */
        @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
        String id();

        /** For {@code location=tiny}: a folder with Qwen2.5's {@code tokenizer.json}. */
        Optional<Path> tokenizerDir();

        /** Where {@code tiny} is cached. */
        @WithDefault("${user.home}/.cache/tuneloop")
        Path cacheDir();
    }

    /** The object store; only {@link #bucket()} under {@link #allowedPrefixes()} may be read. */
    interface Storage {
        /** {@code http(s)://host:port} of the S3 API. */
        String endpoint();

        String accessKey();

        String secretKey();

        /** Signing region; default {@code us-east-1}. */
        Optional<String> region();

        @WithDefault("tuneloop")
        String bucket();

        /** Key prefixes checkpoint and eval data locations must start with (each ending with '/'). */
        @WithDefault("datasets/,runs/")
        List<String> allowedPrefixes();
    }

    interface Messaging {
        /** The consumer group of evaluators; they share the checkpoint-saved topic's partitions. */
        @WithDefault("tuneloop-evaluators")
        String groupId();

        /** How long an evaluation whose partition moved to another worker may take to stop. */
        @WithDefault("60s")
        Duration handoffTimeout();

        /** Wait before an evaluation that ended without an outcome (broker or store unreachable) is tried again. */
        @WithDefault("30s")
        Duration retryBackoff();

        /** Further Kafka client properties (security, timeouts), e.g. {@code ...kafka."session.timeout.ms"=10000}. */
        Map<String, String> kafka();
    }
}
