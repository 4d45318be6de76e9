package dev.tuneloop.trainer.messaging;

import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MalformedEventException;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.trainer.job.CancelRequests;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every partition of the run-events topic (no consumer group: every worker sees every request) from
 * {@code lookback} ago onwards and records each {@code CancelRequested} in {@link CancelRequests}, so a run
 * cancelled while it was queued or while another worker had it is cancelled here too. Records that do not decode
 * are left to the topic's owner to dead-letter.
 */
public final class CancelWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CancelWatcher.class);

    private final Map<String, Object> props;
    private final CancelRequests cancels;
    private final Duration lookback;
    private final Thread thread;
    private volatile boolean closing;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Instant lastPoll;

    public CancelWatcher(KafkaSettings kafka, CancelRequests cancels, Duration lookback) {
        Map<String, Object> p = kafka.properties(Map.of("enable.auto.commit", "false"), "-cancel-watcher");
        p.remove("group.id");
        this.props = p;
        this.cancels = cancels;
        this.lookback = lookback;
        this.thread = new Thread(this::loop, kafka.clientId() + "-cancel-watcher");
    }

    public CancelWatcher start() {
        thread.start();
        return this;
    }

    public boolean running() {
        return thread.isAlive() && !closing;
    }

    public Instant lastPoll() {
        return lastPoll;
    }

    private void loop() {
        try (KafkaConsumer<String, byte[]> c =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer = c;
            List<TopicPartition> partitions = c.partitionsFor(Topics.RUN_EVENTS).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            long since = Instant.now().minus(lookback).toEpochMilli();
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, since));
            Map<TopicPartition, OffsetAndTimestamp> start = c.offsetsForTimes(query);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp at = start.get(tp);
                if (at == null) {
                    c.seekToEnd(List.of(tp));
                } else {
                    c.seek(tp, at.offset());
                }
            }
            LOG.info("watching {} for cancellations since {}", Topics.RUN_EVENTS, Instant.ofEpochMilli(since));
            while (!closing) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    read(r);
                }
                lastPoll = Instant.now();
            }
        } catch (WakeupException e) {
            if (!closing) {
                LOG.error("cancel watcher woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("cancel watcher stopped: {}", e.toString(), e);
        } finally {
            consumer = null;
        }
    }

    private void read(ConsumerRecord<String, byte[]> r) {
        EventEnvelope<?> event;
        try {
            event = EventCodec.fromBytes(r.topic(), r.value());
        } catch (MalformedEventException e) {
            LOG.debug("skipping an unreadable record at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
                    e.reason());
            return;
        }
        if (event.payload() instanceof CancelRequested cancel) {
            LOG.info("run {}: cancel requested by {}: {}", event.header().runId(), cancel.requestedBy(),
                    cancel.reason());
            cancels.request(event.header().runId(), cancel.reason());
        }
    }

    @Override
    public void close() {
        closing = true;
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
