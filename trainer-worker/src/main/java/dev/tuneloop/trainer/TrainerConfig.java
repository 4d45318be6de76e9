package dev.tuneloop.trainer;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The trainer worker's own settings ({@code tuneloop.trainer.*}); Kafka's address is {@code kafka.bootstrap.servers}.
 * The shared ones are {@link dev.tuneloop.config.StorageConfig} ({@code tuneloop.storage.*}),
 * {@link dev.tuneloop.config.ModelConfig} ({@code tuneloop.model.*}: the one base model this worker trains; requests
 * for another model fail) and {@link dev.tuneloop.config.DeviceConfig} ({@code tuneloop.device}).
 */
@ConfigMapping(prefix = "tuneloop.trainer")
public interface TrainerConfig {
    /** Local scratch space; each run gets {@code runs/<id>/} (data, run folder), emptied when the run starts. */
    @WithDefault("${java.io.tmpdir}/tuneloop-trainer")
    Path workDir();

    /** Names this worker in TrainingStarted, attempt records and Kafka client ids; default {@code $HOSTNAME}. */
    Optional<String> workerId();

    Messaging messaging();

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
