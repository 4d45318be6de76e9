package dev.tuneloop.evaluator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The eval worker's own settings ({@code tuneloop.evaluator.*}); Kafka's address is {@code kafka.bootstrap.servers}.
 * The shared ones are {@link dev.tuneloop.config.StorageConfig} ({@code tuneloop.storage.*}; only the bucket under the
 * allowed prefixes may be read), {@link dev.tuneloop.config.ModelConfig} ({@code tuneloop.model.*}: the base model,
 * loaded once per process; checkpoints of runs on another base model fail) and
 * {@link dev.tuneloop.config.DeviceConfig} ({@code tuneloop.device}).
 */
@ConfigMapping(prefix = "tuneloop.evaluator")
public interface EvaluatorConfig {
    /** Local scratch space for a checkpoint's adapter files and eval data, emptied after each checkpoint. */
    @WithDefault("${java.io.tmpdir}/tuneloop-evaluator")
    Path workDir();

    /**
     * At most this many eval examples per checkpoint (the run's fixed seeded sample of that size when it asks for
     * more or for all); 0 = as many as the run asks for.
     */
    @WithDefault("200")
    int evalLimit();

    /** Names this worker in Kafka client ids; default {@code $HOSTNAME}. */
    Optional<String> workerId();

    Messaging messaging();

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
