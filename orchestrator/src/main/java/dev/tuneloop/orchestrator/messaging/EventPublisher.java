package dev.tuneloop.orchestrator.messaging;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes events to their topics under their keys and waits for the broker's acknowledgement (acks=all, idempotent),
 * so a command that returned has its event durably in the log.
 */
public final class EventPublisher implements AutoCloseable {
    /** Headers of a dead-lettered record: where it came from and why it was set aside. */
    public static final String DLQ_TOPIC = "tuneloop.dlq.topic";
    public static final String DLQ_PARTITION = "tuneloop.dlq.partition";
    public static final String DLQ_OFFSET = "tuneloop.dlq.offset";
    public static final String DLQ_REASON = "tuneloop.dlq.reason";

    private final KafkaProducer<byte[], byte[]> producer;
    private final Duration timeout;
    private final LongAdder failures = new LongAdder();

    public EventPublisher(String bootstrapServers, Duration timeout) {
        this(bootstrapServers, timeout, Map.of());
    }

    /** @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top */
    public EventPublisher(String bootstrapServers, Duration timeout, Map<String, String> security) {
        this.timeout = timeout;
        Map<String, Object> config = new HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.CLIENT_ID_CONFIG, "tuneloop-orchestrator",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() + 1000,
                ProducerConfig.LINGER_MS_CONFIG, 0));
        config.putAll(security);
        this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Publishes {@code event} to its topic, keyed by {@link EventEnvelope#key()}; throws if not acknowledged. */
    public void publish(EventEnvelope<?> event) {
        String what = event.header().type() + " " + event.header().eventId() + " of run " + event.header().runId();
        send(new ProducerRecord<>(event.topic(), event.key().getBytes(StandardCharsets.UTF_8),
                EventCodec.toBytes(event)), what);
    }

    /** Copies {@code record} unchanged (key, value, headers) to the dead-letter topic with where-from and why. */
    public void deadLetter(ConsumerRecord<byte[], byte[]> record, String reason) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(Topics.DEAD_LETTER, record.key(), record.value());
        Headers headers = out.headers();
        record.headers().forEach(headers::add);
        headers.add(DLQ_TOPIC, bytes(record.topic()));
        headers.add(DLQ_PARTITION, bytes(Integer.toString(record.partition())));
        headers.add(DLQ_OFFSET, bytes(Long.toString(record.offset())));
        headers.add(DLQ_REASON, bytes(reason));
        send(out, "dead letter of " + record.topic() + "-" + record.partition() + "@" + record.offset());
    }

    /** Publishes that failed since start (broker unreachable, not acknowledged in time, …): for metrics. */
    public long failures() {
        return failures.sum();
    }

    private void send(ProducerRecord<byte[], byte[]> record, String what) {
        try {
            sendOrThrow(record, what);
        } catch (PublishException e) {
            failures.increment();
            throw e;
        }
    }

    private void sendOrThrow(ProducerRecord<byte[], byte[]> record, String what) {
        try {
            // Waits past the producer's delivery timeout: its verdict decides, so a publish reported as failed is
            // not delivered late beside the retry.
            producer.send(record).get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new PublishException("cannot publish " + what + " to " + record.topic() + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new PublishException("publishing " + what + " to " + record.topic() + " was not acknowledged within "
                    + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException("interrupted while publishing " + what, e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new PublishException("cannot publish " + what + " to " + record.topic() + ": " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
