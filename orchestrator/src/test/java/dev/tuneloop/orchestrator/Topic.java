package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Test access to the broker as another service would have it: produce events or raw bytes, read a topic. */
public final class Topic {
    private Topic() {}

    /** Publishes {@code event} to its topic under its key, as a worker or the evaluator would. */
    public static RecordMetadata produce(EventEnvelope<?> event) {
        return produceRaw(event.topic(), event.key(), EventCodec.toBytes(event));
    }

    public static RecordMetadata produceRaw(String topic, String key, byte[] value) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BrokerAndStore.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            return producer.send(new ProducerRecord<>(topic,
                    key == null ? null : key.getBytes(StandardCharsets.UTF_8), value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot produce to " + topic, e);
        }
    }

    /**
     * Waits until consumer group {@code group} committed past {@code record}: the orchestrator commits after the
     * side effects of a batch, so its promotions and dead letters for the record are done by then.
     */
    public static void awaitHandled(String group, RecordMetadata record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                BrokerAndStore.bootstrapServers()))) {
            until(group + " handled " + tp + "@" + record.offset(), () -> {
                try {
                    OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group)
                            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(tp);
                    return committed != null && committed.offset() > record.offset();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    /** Every record on {@code topic} now (from the beginning to the current end). */
    public static List<ConsumerRecord<byte[], byte[]>> read(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BrokerAndStore.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end " + end);
                }
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }
    }

    /** The decoded events on {@code topic} that match, waiting up to 20 s for at least {@code count}. */
    public static List<EventEnvelope<?>> await(String topic, int count, Predicate<EventEnvelope<?>> match) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            List<EventEnvelope<?>> found = read(topic).stream()
                    .<EventEnvelope<?>>map(r -> decodeOrNull(topic, r.value()))
                    .filter(e -> e != null && match.test(e))
                    .toList();
            if (found.size() >= count || System.nanoTime() > deadline) {
                return found;
            }
            sleep();
        }
    }

    private static EventEnvelope<?> decodeOrNull(String topic, byte[] value) {
        try {
            return EventCodec.fromBytes(topic, value);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Waits up to 20 s for {@code condition}; fails with {@code what} otherwise. */
    public static void until(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 20 s waiting until " + what);
            }
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
