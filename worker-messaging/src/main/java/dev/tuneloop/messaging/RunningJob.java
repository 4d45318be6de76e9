package dev.tuneloop.messaging;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/** The job a {@link JobLoop} runs now: its record, its hand-off flag and its future. */
final class RunningJob {
    final ConsumerRecord<String, byte[]> record;
    final String runId;
    final AtomicBoolean handoff = new AtomicBoolean();
    Future<?> future;

    RunningJob(ConsumerRecord<String, byte[]> record, String runId) {
        this.record = record;
        this.runId = runId;
    }

    TopicPartition partition() {
        return new TopicPartition(record.topic(), record.partition());
    }

    /** Ended without throwing. */
    boolean succeeded() {
        if (!future.isDone()) {
            return false;
        }
        try {
            future.get();
            return true;
        } catch (ExecutionException | InterruptedException e) {
            return false;
        }
    }
}
