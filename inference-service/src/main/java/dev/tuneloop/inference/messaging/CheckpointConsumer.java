package dev.tuneloop.inference.messaging;

import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.MalformedEventException;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code CheckpointSaved} and {@code CheckpointEvaluated} from their end (only new checkpoints matter; no
 * consumer group, nothing committed): remembers the files of the newest {@value #REMEMBERED} saved checkpoints by
 * (run id, checkpoint) and hands each evaluation of a remembered checkpoint over. Records that do not decode are
 * logged and counted, never fatal; an unexpected failure starts over from the end.
 */
public final class CheckpointConsumer extends AssignedReader {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointConsumer.class);
    static final int REMEMBERED = 1024;
    private static final List<String> TOPICS = List.of(Topics.CHECKPOINT_SAVED, Topics.CHECKPOINT_EVALUATED);

    /** Receives an evaluated checkpoint whose files are known, on the consumer's thread. */
    @FunctionalInterface
    public interface EvaluationListener {
        void evaluated(String runId, String checkpoint, Map<String, StoredObject> files, double f1, String evalSetId);
    }

    private record SavedKey(String runId, String checkpoint) {}

    private final EvaluationListener onEvaluated;
    private final Runnable onFollowing;
    private final Runnable onMalformed;
    private final Map<SavedKey, Map<String, StoredObject>> saved = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<SavedKey, Map<String, StoredObject>> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top
     * @param onFollowing runs once the topics' end positions are fixed (every later event is read)
     */
    public CheckpointConsumer(String bootstrapServers, Map<String, String> security, EvaluationListener onEvaluated,
            Runnable onFollowing, Runnable onMalformed, Runnable onRestart) {
        super(bootstrapServers, security, "checkpoints", onRestart);
        this.onEvaluated = onEvaluated;
        this.onFollowing = onFollowing;
        this.onMalformed = onMalformed;
    }

    /** Follows from the end. */
    @Override
    protected void read() {
        try (KafkaConsumer<String, byte[]> c = open("latest")) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : TOPICS) {
                List<TopicPartition> of = awaitPartitions(c, topic, "nothing is prefetched");
                if (of == null) {
                    return;
                }
                partitions.addAll(of);
            }
            c.assign(partitions);
            c.seekToEnd(partitions);
            Map<TopicPartition, Long> from = new LinkedHashMap<>();
            partitions.forEach(tp -> from.put(tp, c.position(tp))); // fixes the positions now, not at the first poll
            LOG.info("prefetch: following {} from their end {}", TOPICS, from);
            onFollowing.run();
            while (running()) {
                ConsumerRecords<String, byte[]> records = c.poll(Duration.ofMillis(200));
                // saves before evaluations: a checkpoint's evaluation may arrive in the same poll as its save
                records.records(Topics.CHECKPOINT_SAVED).forEach(r -> handle(r, CheckpointSaved.class));
                records.records(Topics.CHECKPOINT_EVALUATED).forEach(r -> handle(r, CheckpointEvaluated.class));
            }
        }
    }

    private <P extends EventPayload> void handle(ConsumerRecord<String, byte[]> record, Class<P> type) {
        EventEnvelope<P> event;
        try {
            if (record.value() == null) {
                throw new MalformedEventException(record.topic(), null, "tombstone (null value)", null);
            }
            event = EventCodec.fromBytes(record.topic(), record.value(), type);
        } catch (MalformedEventException e) {
            LOG.error("skipping malformed record at {}-{}@{} (key {}): {}", record.topic(), record.partition(),
                    record.offset(), record.key(), e.getMessage());
            onMalformed.run();
            return;
        }
        String runId = event.header().runId();
        if (event.payload() instanceof CheckpointSaved s) {
            saved.put(new SavedKey(runId, s.checkpoint()), s.files());
        } else if (event.payload() instanceof CheckpointEvaluated e) {
            Map<String, StoredObject> files = saved.get(new SavedKey(runId, e.checkpoint()));
            if (files == null) {
                LOG.debug("evaluation of {}/{} whose save was not seen; not prefetched", runId, e.checkpoint());
                return;
            }
            onEvaluated.evaluated(runId, e.checkpoint(), files, e.f1(), e.evalSetId());
        }
    }
}
