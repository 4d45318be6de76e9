package dev.tuneloop.inference.messaging;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MalformedEventException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the compacted promotions topic from its beginning on every start (no consumer group: every replica sees every
 * promotion and commits nothing). Until the end offsets seen at start are reached only the newest promotion per
 * served model is kept; then those are handed over and {@code onCaughtUp} runs; after that every promotion is handed
 * over as it arrives. Records that do not decode are logged and counted, never fatal; an unexpected failure starts the
 * reading over. The only class that knows Kafka.
 */
public final class PromotionConsumer extends AssignedReader {
    private static final Logger LOG = LoggerFactory.getLogger(PromotionConsumer.class);

    private final String topic;
    private final BiConsumer<String, AdapterPromoted> onPromotion;
    private final Runnable onCaughtUp;
    private final Runnable onMalformed;
    private boolean caughtUpOnce;

    /**
     * @param onPromotion run id and promotion, on the consumer's thread (slow work here delays later promotions only)
     */
    public PromotionConsumer(String bootstrapServers, String topic, BiConsumer<String, AdapterPromoted> onPromotion,
            Runnable onCaughtUp, Runnable onMalformed, Runnable onRestart) {
        this(bootstrapServers, Map.of(), topic, onPromotion, onCaughtUp, onMalformed, onRestart);
    }

    /** @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top */
    public PromotionConsumer(String bootstrapServers, Map<String, String> security, String topic,
            BiConsumer<String, AdapterPromoted> onPromotion, Runnable onCaughtUp, Runnable onMalformed,
            Runnable onRestart) {
        super(bootstrapServers, security, "promotions", onRestart);
        this.topic = topic;
        this.onPromotion = onPromotion;
        this.onCaughtUp = onCaughtUp;
        this.onMalformed = onMalformed;
    }

    /** Reads from the beginning to the end, then follows. */
    @Override
    protected void read() {
        try (KafkaConsumer<String, byte[]> c = open("earliest")) {
            List<TopicPartition> partitions = awaitPartitions(c, topic, "not ready");
            if (partitions == null) {
                return;
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            LOG.info("reading promotions from {} ({} partition(s), end offsets {})", topic, partitions.size(), end);
            Map<String, EventEnvelope<AdapterPromoted>> newest = new HashMap<>();
            boolean caughtUp = false;
            while (running()) {
                for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(200))) {
                    EventEnvelope<AdapterPromoted> event = decode(record);
                    if (event == null) {
                        continue;
                    }
                    if (caughtUp) {
                        onPromotion.accept(event.header().runId(), event.payload());
                    } else {
                        newest.merge(event.payload().servedModel(), event,
                                (a, b) -> b.payload().generation() > a.payload().generation() ? b : a);
                    }
                }
                if (!caughtUp && partitions.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
                    caughtUp = true;
                    LOG.info("promotions read to the end: newest per served model {}", newest.values().stream()
                            .map(e -> e.payload().servedModel() + "=generation " + e.payload().generation()).toList());
                    newest.values().forEach(e -> onPromotion.accept(e.header().runId(), e.payload()));
                    newest.clear();
                    if (!caughtUpOnce) { // a restart reads to the end again, but start-up is done only once
                        caughtUpOnce = true;
                        onCaughtUp.run();
                    }
                }
            }
        }
    }

    private EventEnvelope<AdapterPromoted> decode(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            LOG.info("ignoring a tombstone for {} at {}-{}@{}: a served model is never un-promoted by deletion",
                    record.key(), record.topic(), record.partition(), record.offset());
            return null;
        }
        try {
            return EventCodec.fromBytes(topic, record.value(), AdapterPromoted.class);
        } catch (MalformedEventException e) {
            LOG.error("skipping malformed promotion at {}-{}@{} (key {}): {}", record.topic(), record.partition(),
                    record.offset(), record.key(), e.getMessage());
            onMalformed.run();
            return null;
        }
    }
}
