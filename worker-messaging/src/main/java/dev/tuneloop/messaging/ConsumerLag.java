package dev.tuneloop.messaging;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Records of a member's partitions that its group has not committed yet: end offset minus committed offset. */
final class ConsumerLag {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private ConsumerLag() {}

    /** Asks the broker; throws the client's {@code KafkaException} when it cannot answer in time. */
    static long of(Consumer<?, ?> consumer) {
        Set<TopicPartition> partitions = consumer.assignment();
        if (partitions.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, WAIT);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, WAIT);
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions, WAIT);
        long lag = 0;
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata done = committed.get(tp);
            long from = done != null ? done.offset() : begin.getOrDefault(tp, 0L);
            lag += Math.max(0, end.getOrDefault(tp, 0L) - from);
        }
        return lag;
    }
}
