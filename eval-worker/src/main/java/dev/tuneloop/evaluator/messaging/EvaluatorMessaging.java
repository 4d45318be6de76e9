package dev.tuneloop.evaluator.messaging;

import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.JobLoop;
import dev.tuneloop.messaging.KafkaSettings;
import java.time.Duration;

/**
 * The evaluator's Kafka side: a {@link JobLoop} on the checkpoint-saved topic. Evaluators scale out by partitions
 * (three by default); an unreadable record is dead-lettered and fails its run in stage {@code evaluate}.
 */
public final class EvaluatorMessaging implements AutoCloseable {
    /**
     * @param groupId the evaluators' consumer group
     * @param handoffTimeout how long an evaluation whose partition moved away may take to stop
     * @param retryBackoff wait before an evaluation without outcome is tried again
     */
    public record Settings(String groupId, Duration pollTimeout, Duration handoffTimeout, Duration retryBackoff) {}

    private final JobLoop<CheckpointSaved> loop;

    private EvaluatorMessaging(JobLoop<CheckpointSaved> loop) {
        this.loop = loop;
    }

    public static EvaluatorMessaging start(KafkaSettings kafka, Settings settings, EventPublisher publisher,
            JobLoop.Handler<CheckpointSaved> handler) {
        JobLoop.Settings loopSettings = new JobLoop.Settings(Topics.CHECKPOINT_SAVED, settings.groupId(),
                settings.pollTimeout(), settings.handoffTimeout(), settings.retryBackoff(), Duration.ofSeconds(15),
                "evaluate");
        return new EvaluatorMessaging(
                new JobLoop<>(kafka, loopSettings, CheckpointSaved.class, publisher, handler).start());
    }

    public JobLoop.Status status() {
        return loop.status();
    }

    @Override
    public void close() {
        loop.close();
    }
}
