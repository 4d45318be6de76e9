package dev.tuneloop.contracts;

import java.util.List;
import java.util.Map;

/**
 * Topic names, named once and versioned: a breaking payload change gets a new {@code .v2} topic.
 *
 * <p>Keys: every topic is keyed by run id except {@link #ADAPTER_PROMOTED} (served model name) and the two topics
 * whose producers are not ours ({@link #DATASET_NOTIFICATIONS}: MinIO keys by {@code bucket/key};
 * {@link #DEAD_LETTER}: the original key). All of a run's lifecycle events — {@code TrainingStarted},
 * {@code TrainingProgressed}, {@code CancelRequested}, {@code RunCompleted}, {@code RunFailed}, {@code RunCancelled},
 * {@code RunDeleted} — share {@link #RUN_EVENTS}, so one partition holds them in the order they were produced.
 * Checkpoint events have their own topics (other consumers, other rates); nothing orders them against run events,
 * which is why {@link RunCompleted} lists the run's checkpoints.
 *
 * <p>Retention: the topics the orchestrator rebuilds its state from keep everything ({@code retention.ms=-1});
 * {@link #ADAPTER_PROMOTED} is compacted to the latest promotion per served model.
 */
public final class Topics {
    public static final String TRAINING_REQUESTED = "tuneloop.training-requested.v1";
    public static final String RUN_EVENTS = "tuneloop.run-events.v1";
    public static final String CHECKPOINT_SAVED = "tuneloop.checkpoint-saved.v1";
    public static final String CHECKPOINT_EVALUATED = "tuneloop.checkpoint-evaluated.v1";
    public static final String ADAPTER_PROMOTED = "tuneloop.adapter-promoted.v1";
    public static final String DEAD_LETTER = "tuneloop.dead-letter.v1";
    /** MinIO bucket notifications ({@link MinioNotification}), written by MinIO's Kafka target. */
    public static final String DATASET_NOTIFICATIONS = "tuneloop.dataset-notifications.v1";

    private static final String FOREVER = "-1";
    private static final String SEVEN_DAYS_MS = "604800000";
    private static final String FOURTEEN_DAYS_MS = "1209600000";

    private static final List<TopicSpec> ALL = List.of(
            keepForever(TRAINING_REQUESTED, 3),
            keepForever(RUN_EVENTS, 3),
            keepForever(CHECKPOINT_SAVED, 3),
            keepForever(CHECKPOINT_EVALUATED, 3),
            new TopicSpec(ADAPTER_PROMOTED, 1, Map.of("cleanup.policy", "compact")),
            new TopicSpec(DEAD_LETTER, 1, Map.of("cleanup.policy", "delete", "retention.ms", FOURTEEN_DAYS_MS)),
            new TopicSpec(DATASET_NOTIFICATIONS, 1, Map.of("cleanup.policy", "delete", "retention.ms", SEVEN_DAYS_MS)));

    private Topics() {}

    /** Every topic tuneloop uses, for tests, the CLI and Helm to create them identically. */
    public static List<TopicSpec> all() {
        return ALL;
    }

    public static TopicSpec spec(String name) {
        return ALL.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown topic " + name + "; known: "
                        + ALL.stream().map(TopicSpec::name).toList()));
    }

    private static TopicSpec keepForever(String name, int partitions) {
        return new TopicSpec(name, partitions, Map.of("cleanup.policy", "delete", "retention.ms", FOREVER));
    }
}
