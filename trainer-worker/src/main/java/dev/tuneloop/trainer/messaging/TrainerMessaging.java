package dev.tuneloop.trainer.messaging;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.JobLoop;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import java.time.Duration;

/**
 * The trainer's Kafka side: a {@link CancelWatcher} filling {@link CancelRequests}, and a {@link JobLoop} on the
 * training-requested topic that runs one {@link TrainingJob} at a time; unreadable requests fail their run in stage
 * {@code request}.
 */
public final class TrainerMessaging implements AutoCloseable {
    /**
     * @param groupId the trainers' consumer group
     * @param handoffTimeout how long a job whose partition moved away may take to stop
     * @param retryBackoff wait before a job without outcome is tried again
     * @param cancelLookback how far back cancellations are read at start-up
     */
    public record Settings(String groupId, Duration pollTimeout, Duration handoffTimeout, Duration retryBackoff,
            Duration cancelLookback) {}

    private final CancelWatcher watcher;
    private final JobLoop<TrainingRequested> loop;

    private TrainerMessaging(CancelWatcher watcher, JobLoop<TrainingRequested> loop) {
        this.watcher = watcher;
        this.loop = loop;
    }

    public static TrainerMessaging start(KafkaSettings kafka, Settings settings, EventPublisher publisher,
            CancelRequests cancels, TrainingJob job) {
        CancelWatcher watcher = new CancelWatcher(kafka, cancels, settings.cancelLookback()).start();
        JobLoop.Settings loopSettings = new JobLoop.Settings(Topics.TRAINING_REQUESTED, settings.groupId(),
                settings.pollTimeout(), settings.handoffTimeout(), settings.retryBackoff(), Duration.ofSeconds(15),
                "request");
        return new TrainerMessaging(watcher,
                new JobLoop<>(kafka, loopSettings, TrainingRequested.class, publisher, job::run).start());
    }

    public JobLoop.Status status() {
        return loop.status();
    }

    public boolean watcherRunning() {
        return watcher.running();
    }

    /** Stops consuming; a running job is handed off to another worker. */
    @Override
    public void close() {
        try {
            loop.close();
        } finally {
            watcher.close();
        }
    }
}
