package dev.tuneloop.trainer;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The trainer worker's settings ({@code tuneloop.trainer.*}); Kafka's address is {@code kafka.bootstrap.servers}. */
@ConfigMapping(prefix = "tuneloop.trainer")
public interface TrainerConfig {
    Model model();

    /** Local scratch space; each run gets {@code runs/<id>/} (data, run folder), emptied when the run starts. */
    @WithDefault("${java.io.tmpdir}/tuneloop-trainer")
    Path workDir();

    /** DJL device: {@code cpu}, {@code gpu}, {@code gpu1}, … (CPU fp32 is the tested path). */
    @WithDefault("cpu")
    String device();

    /** Names this worker in TrainingStarted, attempt records and Kafka client ids; default {@code $HOSTNAME}. */
    Optional<String> workerId();

    Storage storage();

    Messaging messaging();

    /** The one base model this worker trains; requests for another model fail. */
    interface Model {
        /**
         * Where the weights are: a local folder, a Hugging Face hub id ({@code owner/name[@revision]}, downloaded
         * once into the Hugging Face cache; {@code HF_*} variables honoured), or {@code tiny}: a tiny random Qwen2
         * made once into {@link #cacheDir()} from {@link #tokenizerDir()} (pipelines in seconds, answers are noise).
         */
        @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
        String location();

        /** The model's Hugging Face id: requests must name it, events carry it as lineage. */
        @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
        String id();

        /** The model's revision: requests must name it, events carry it as lineage. */
        @WithDefault("main")
        String revision();

        /** For {@code location=tiny}: a folder with Qwen2.5's {@code tokenizer.json}. */
        Optional<Path> tokenizerDir();

        /** Where {@code tiny} is cached. */
        @WithDefault("${user.home}/.cache/tuneloop")
        Path cacheDir();
    }

    /** The object store; only {@link #bucket()} under {@link #allowedPrefixes()} may be read or written. */
    interface Storage {
        /** {@code http(s)://host:port} of the S3 API. */
        String endpoint();

        String accessKey();

        String secretKey();

        /** Signing region; default {@code us-east-1}. */
        Optional<String> region();

        @WithDefault("tuneloop")
        String bucket();

        /** Key prefixes data and run locations must start with (each ending with '/'). */
        @WithDefault("datasets/,runs/")
        List<String> allowedPrefixes();

        /**
         * Tries per storage call on a transient failure (connection refused or reset, timeout, HTTP 5xx), with
         * exponential backoff from {@link #retryInitialBackoff()} capped at {@link #retryMaxBackoff()}: by default
         * an upload rides out an outage of about 55 s in place; only then does the job fail over to a retry from
         * its last checkpoint.
         */
        @WithDefault("10")
        int retryAttempts();

        @WithDefault("500ms")
        Duration retryInitialBackoff();

        @WithDefault("10s")
        Duration retryMaxBackoff();
    }

    interface Messaging {
        /** The consumer group of trainers; they share the training-requested topic's partitions. */
        @WithDefault("tuneloop-trainers")
        String groupId();

        /** Least time between two TrainingProgressed events of a run (its last step is always reported). */
        @WithDefault("10s")
        Duration progressInterval();

        /** How far back cancellations are read at start-up (a run cancelled while queued is still cancelled). */
        @WithDefault("24h")
        Duration cancelLookback();

        /** How long a job whose partition moved to another worker may take to stop (below max.poll.interval.ms). */
        @WithDefault("60s")
        Duration handoffTimeout();

        /** Wait before a job that ended without an outcome (broker or store unreachable) is tried again. */
        @WithDefault("30s")
        Duration retryBackoff();

        /** Further Kafka client properties (security, timeouts), e.g. {@code ...kafka."session.timeout.ms"=10000}. */
        Map<String, String> kafka();
    }
}
