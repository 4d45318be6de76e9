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
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code CheckpointSaved} and {@code CheckpointEvaluated} from their end (only new checkpoints matter; no
 * consumer group, nothing committed): remembers the files of the newest {@value #REMEMBERED} saved checkpoints by
 * (run id, checkpoint) and hands each evaluation of a remembered checkpoint over. Records that do not decode are
 * logged and counted, never fatal; an unexpected failure starts over from the end.
 */
public final class CheckpointConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointConsumer.class);
    static final int REMEMBERED = 1024;
    private static final List<String> TOPICS = List.of(Topics.CHECKPOINT_SAVED, Topics.CHECKPOINT_EVALUATED);

    /** Receives an evaluated checkpoint whose files are known, on the consumer's thread. */
    @FunctionalInterface
    public interface EvaluationListener {
        void evaluated(String runId, String checkpoint, Map<String, StoredObject> files, double f1, String evalSetId);
    }

    private record SavedKey(String runId, String checkpoint) {}

    private final String bootstrapServers;
    private final Map<String, String> security;
    private final EvaluationListener onEvaluated;
    private final Runnable onFollowing;
    private final Runnable onMalformed;
    private final Runnable onRestart;
    private final Thread thread;
    private final Map<SavedKey, Map<String, StoredObject>> saved = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<SavedKey, Map<String, StoredObject>> eldest) {
            return size() > REMEMBERED;
        }
    };
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;

    /**
     * @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top
     * @param onFollowing runs once the topics' end positions are fixed (every later event is read)
     */
    public CheckpointConsumer(String bootstrapServers, Map<String, String> security, EvaluationListener onEvaluated,
            Runnable onFollowing, Runnable onMalformed, Runnable onRestart) {
        this.bootstrapServers = bootstrapServers;
        this.security = Map.copyOf(security);
        this.onEvaluated = onEvaluated;
        this.onFollowing = onFollowing;
        this.onMalformed = onMalformed;
        this.onRestart = onRestart;
        this.thread = new Thread(this::run, "tuneloop-checkpoints");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        while (running) {
            try {
                follow();
            } catch (WakeupException e) {
                if (running) {
                    LOG.error("checkpoints consumer woken up unexpectedly; starting over", e);
                }
            } catch (RuntimeException e) {
                LOG.error("checkpoints consumer on {} failed, starting over from the end in 5 s: {}", TOPICS,
                        e.toString(), e);
                onRestart.run();
                pause(5000);
            }
        }
    }

    private void follow() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "tuneloop-inference-checkpoints-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.putAll(security);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : TOPICS) {
                List<TopicPartition> of = awaitPartitions(c, topic);
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
            while (running) {
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

    /** The topic's partitions, waiting while it does not exist yet; {@code null} if closed meanwhile. */
    private List<TopicPartition> awaitPartitions(KafkaConsumer<String, byte[]> c, String topic) {
        while (running) {
            try {
                List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null && !infos.isEmpty()) {
                    return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                }
                LOG.warn("topic {} does not exist on {} yet; nothing is prefetched until it does", topic,
                        bootstrapServers);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                LOG.warn("no answer from Kafka at {} about {} yet: {}", bootstrapServers, topic, e.getMessage());
            }
            pause(1000);
        }
        return null;
    }

    private void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
