package dev.tuneloop.orchestrator.messaging;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MalformedEventException;
import dev.tuneloop.contracts.MinioNotification;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.UnknownEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the state topics from the beginning on every start (event sourcing: the topics are the database), then
 * keeps reading new records. Partitions are assigned by hand, not by a group rebalance; the consumer group only
 * stores how far side effects were done, so a restart does not dead-letter the same record twice.
 *
 * <p>A record that does not decode, or whose event type does not belong on its topic, goes to the dead-letter topic
 * and the partition moves on; when its key names a run, {@code runFailed} is called. Events of types this version
 * does not know are skipped. Side effects wait until the state is rebuilt ({@link #isLive()}), then run after every
 * batch that changed something.
 */
public final class EventConsumer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** A reconnect shorter than this is not an outage. */
    private static final Duration UNAVAILABLE_AFTER = Duration.ofSeconds(2);
    /** Topics not keyed by run id: a malformed record there names no run. */
    private static final Set<String> NOT_RUN_KEYED =
            Set.of(Topics.ADAPTER_PROMOTED, Topics.DATASET_NOTIFICATIONS, Topics.DEAD_LETTER);

    /**
     * What the consumer does with what it reads.
     *
     * @param apply applies a decoded event to the state; true if that changed it
     * @param runFailed called with a run id and a reason when a malformed record names a run (only for records
     *     not handled before)
     * @param afterChanges side effects of a changed state (promotions, retention); runs only once live
     * @param notification handles a MinIO notification from {@link Topics#DATASET_NOTIFICATIONS}; only once live,
     *     so that it sees every run already requested
     */
    public record Handlers(Predicate<EventEnvelope<?>> apply, BiConsumer<String, String> runFailed,
            Runnable afterChanges, Consumer<MinioNotification> notification) {}

    private final Map<String, Object> config;
    private final List<String> topics;
    private final EventPublisher publisher;
    private final Handlers handlers;
    private final AtomicLong deadLettered = new AtomicLong();
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile boolean running = true;
    private volatile boolean live;
    private volatile String status = "starting";
    /** Since when the consumer has had no connection to any broker; null while connected. */
    private volatile Instant disconnectedSince;

    public EventConsumer(String bootstrapServers, String group, List<String> topics, EventPublisher publisher,
            Handlers handlers) {
        this(bootstrapServers, group, topics, publisher, handlers, Map.of());
    }

    /** @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top */
    public EventConsumer(String bootstrapServers, String group, List<String> topics, EventPublisher publisher,
            Handlers handlers, Map<String, String> security) {
        Map<String, Object> config = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.CLIENT_ID_CONFIG, group + "-state",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500));
        config.putAll(security);
        this.config = Map.copyOf(config);
        this.topics = List.copyOf(topics);
        this.publisher = publisher;
        this.handlers = handlers;
    }

    /** True once every record present at start has been applied. */
    public boolean isLive() {
        return live;
    }

    /** What the consumer is doing, for the readiness check; says so when the broker is unreachable. */
    public String status() {
        Instant since = disconnectedSince;
        return since == null || !brokerUnavailable() ? status
                : status + "; no connection to the Kafka broker at " + config.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)
                        + " since " + since;
    }

    /**
     * True when the consumer has had no broker connection for longer than {@link #UNAVAILABLE_AFTER} (a broker
     * stopped or unreachable): the state is not updated and commands cannot be published meanwhile.
     */
    public boolean brokerUnavailable() {
        Instant since = disconnectedSince;
        return since != null && since.isBefore(Instant.now().minus(UNAVAILABLE_AFTER));
    }

    public long deadLettered() {
        return deadLettered.get();
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> kafka =
                new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer = kafka;
            List<TopicPartition> partitions = awaitTopics(kafka);
            if (partitions.isEmpty()) {
                return;
            }
            // State topics are read from the beginning; notifications go on from where they were handled, and only
            // once the state is rebuilt.
            List<TopicPartition> state = partitions.stream()
                    .filter(tp -> !tp.topic().equals(Topics.DATASET_NOTIFICATIONS)).toList();
            List<TopicPartition> notifications = partitions.stream()
                    .filter(tp -> tp.topic().equals(Topics.DATASET_NOTIFICATIONS)).toList();
            kafka.assign(partitions);
            Map<TopicPartition, Long> handledUpTo = handledOffsets(kafka, partitions);
            Map<TopicPartition, Long> end = kafka.endOffsets(state);
            kafka.seekToBeginning(state);
            kafka.pause(notifications);
            long total = end.values().stream().mapToLong(Long::longValue).sum();
            status = "rebuilding state from " + total + " records on " + topics;
            LOG.info("rebuilding state from {} records on {} (handled before: {})", total, topics, handledUpTo);
            boolean changed = false;
            while (running) {
                ConsumerRecords<byte[], byte[]> records = kafka.poll(POLL);
                trackConnection(kafka);
                changed |= handle(kafka, records, handledUpTo);
                if (!live && caughtUp(kafka, end)) {
                    live = true;
                    changed = true;
                    kafka.resume(notifications);
                    status = "live";
                    LOG.info("state rebuilt from {} records; live", total);
                }
                if (live && changed) {
                    changed = !runSideEffects();
                }
                if (!records.isEmpty()) {
                    commit(kafka, partitions, handledUpTo);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                status = "failed: woken up unexpectedly";
                throw e;
            }
        } catch (RuntimeException e) {
            status = "failed: " + e;
            LOG.error("event consumer stopped on an error; readiness is DOWN", e);
            throw e;
        } finally {
            live = false;
            if (!status.startsWith("failed")) {
                status = "stopped";
            }
        }
    }

    /** Handles a batch; on a failed dead-letter write, rewinds to the record and retries later. */
    private boolean handle(KafkaConsumer<byte[], byte[]> kafka, ConsumerRecords<byte[], byte[]> records,
            Map<TopicPartition, Long> handledUpTo) {
        boolean changed = false;
        Set<TopicPartition> rewound = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (rewound.contains(tp)) {
                continue;
            }
            boolean firstTime = record.offset() >= handledUpTo.getOrDefault(tp, 0L);
            try {
                changed |= handle(record, firstTime);
            } catch (PublishException e) {
                LOG.warn("cannot write the dead letter of {}@{}; retrying: {}", tp, record.offset(), e.getMessage());
                kafka.seek(tp, record.offset());
                rewound.add(tp);
                sleep(RETRY);
            }
        }
        return changed;
    }

    private boolean handle(ConsumerRecord<byte[], byte[]> record, boolean firstTime) {
        if (record.topic().equals(Topics.DATASET_NOTIFICATIONS)) {
            handleNotification(record, firstTime);
            return false;
        }
        EventEnvelope<?> event;
        try {
            event = EventCodec.fromBytes(record.topic(), record.value());
            if (!(event.payload() instanceof UnknownEvent) && !event.topic().equals(record.topic())) {
                throw new MalformedEventException(record.topic(), record.value(), event.header().type()
                        + " events belong on " + event.topic(), null);
            }
        } catch (MalformedEventException e) {
            reject(record, e.reason(), firstTime);
            return false;
        }
        if (event.payload() instanceof UnknownEvent) {
            LOG.debug("skipping {} event {} of a newer producer", event.header().type(), event.header().eventId());
            return false;
        }
        try {
            return handlers.apply().test(event);
        } catch (RuntimeException e) {
            reject(record, "cannot apply " + event.header().type() + " " + event.header().eventId() + ": " + e,
                    firstTime);
            return false;
        }
    }

    private void handleNotification(ConsumerRecord<byte[], byte[]> record, boolean firstTime) {
        MinioNotification notification;
        try {
            notification = MinioNotification.fromBytes(record.topic(), record.value());
        } catch (MalformedEventException e) {
            reject(record, e.reason(), firstTime);
            return;
        }
        try {
            handlers.notification().accept(notification);
        } catch (PublishException e) {
            throw e;
        } catch (RuntimeException e) {
            reject(record, "cannot start a run for " + notification.key() + ": " + e.getMessage(), firstTime);
        }
    }

    private void reject(ConsumerRecord<byte[], byte[]> record, String reason, boolean firstTime) {
        if (!firstTime) {
            return; // dead-lettered by an earlier run of the orchestrator
        }
        LOG.warn("dead-lettering {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), reason);
        publisher.deadLetter(record, reason);
        deadLettered.incrementAndGet();
        if (!NOT_RUN_KEYED.contains(record.topic()) && record.key() != null) {
            String runId = new String(record.key(), StandardCharsets.UTF_8);
            handlers.runFailed().accept(runId, "malformed event on " + record.topic() + " (partition "
                    + record.partition() + ", offset " + record.offset() + "): " + reason);
        }
    }

    private boolean runSideEffects() {
        try {
            handlers.afterChanges().run();
            return true;
        } catch (RuntimeException e) {
            LOG.warn("side effects failed, retrying after the next poll: {}", e.toString());
            sleep(RETRY);
            return false;
        }
    }

    private List<TopicPartition> awaitTopics(KafkaConsumer<byte[], byte[]> kafka) {
        while (running) {
            status = "looking up topics " + topics;
            List<TopicPartition> partitions = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (String topic : topics) {
                List<PartitionInfo> infos;
                try {
                    infos = kafka.partitionsFor(topic, Duration.ofSeconds(10));
                } catch (TimeoutException e) {
                    status = "waiting for the Kafka broker at " + config.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)
                            + ": " + e.getMessage();
                    LOG.warn(status);
                    missing.add(topic);
                    continue;
                }
                if (infos == null || infos.isEmpty()) {
                    missing.add(topic);
                } else {
                    infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
                }
            }
            if (missing.isEmpty()) {
                return partitions;
            }
            if (!status.startsWith("waiting for the Kafka broker")) {
                status = "waiting for topics " + missing + " (create them as listed in dev.tuneloop.contracts.Topics)";
                LOG.warn(status);
            }
            sleep(RETRY);
        }
        return List.of();
    }

    /** The client's own {@code connection-count}: 0 means no broker is reachable. */
    private void trackConnection(KafkaConsumer<byte[], byte[]> kafka) {
        double connections = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : kafka.metrics().entrySet()) {
            if (m.getKey().name().equals("connection-count") && m.getKey().group().equals("consumer-metrics")
                    && m.getValue().metricValue() instanceof Double d) {
                connections += d;
            }
        }
        if (connections > 0) {
            if (disconnectedSince != null) {
                LOG.info("connected to the Kafka broker again (no connection since {})", disconnectedSince);
            }
            disconnectedSince = null;
        } else if (disconnectedSince == null) {
            disconnectedSince = Instant.now();
            LOG.warn("no connection to the Kafka broker at {}", config.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
        }
    }

    private static Map<TopicPartition, Long> handledOffsets(KafkaConsumer<byte[], byte[]> kafka,
            List<TopicPartition> partitions) {
        Map<TopicPartition, Long> handled = new HashMap<>();
        kafka.committed(Set.copyOf(partitions)).forEach((tp, offset) ->
                handled.put(tp, offset == null ? 0L : offset.offset()));
        return handled;
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> kafka, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (kafka.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static void commit(KafkaConsumer<byte[], byte[]> kafka, List<TopicPartition> partitions,
            Map<TopicPartition, Long> handledUpTo) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            long position = kafka.position(tp);
            if (position > handledUpTo.getOrDefault(tp, 0L)) {
                offsets.put(tp, new OffsetAndMetadata(position));
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        try {
            kafka.commitSync(offsets);
            offsets.forEach((tp, offset) -> handledUpTo.put(tp, offset.offset()));
        } catch (KafkaException e) {
            // Not fatal: a restart would only redo the side effects of these records.
            LOG.warn("cannot commit handled offsets {}: {}", offsets, e.toString());
        }
    }

    private void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Stops the loop and waits for nothing: the thread closes the consumer on its way out. */
    public void stop() {
        running = false;
        KafkaConsumer<byte[], byte[]> kafka = consumer;
        if (kafka != null) {
            kafka.wakeup();
        }
    }
}
