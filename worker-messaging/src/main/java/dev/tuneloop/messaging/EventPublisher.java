package dev.tuneloop.messaging;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes events to their topics under their keys and waits for the broker's acknowledgement (acks=all,
 * idempotent producer), so a caller that goes on after {@link #publish} knows the event is stored. Thread-safe.
 *
 * <p>Dead letters keep the original key and bytes and carry where they came from and why in headers:
 * {@value #DLQ_SOURCE_TOPIC}, {@value #DLQ_SOURCE_PARTITION}, {@value #DLQ_SOURCE_OFFSET}, {@value #DLQ_GROUP},
 * {@value #DLQ_REASON} (the original record's headers follow them).
 */
public final class EventPublisher implements AutoCloseable {
    public static final String DLQ_SOURCE_TOPIC = "tuneloop.dlq.source-topic";
    public static final String DLQ_SOURCE_PARTITION = "tuneloop.dlq.source-partition";
    public static final String DLQ_SOURCE_OFFSET = "tuneloop.dlq.source-offset";
    public static final String DLQ_GROUP = "tuneloop.dlq.consumer-group";
    public static final String DLQ_REASON = "tuneloop.dlq.reason";

    private final KafkaProducer<String, byte[]> producer;
    private final String tuneloopVersion;
    private final Duration timeout;
    private final List<Consumer<EventEnvelope<?>>> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder failures = new LongAdder();
    private volatile String lastFailure;

    /**
     * @param timeout how long {@link #publish} may wait for the broker: at most this for metadata (an unreachable
     *     broker), then this for the acknowledgement; the producer gives a record up at the same time as the caller
     *     (delivery timeout), so a publish that threw is not delivered late behind a retried one
     */
    public EventPublisher(KafkaSettings settings, String tuneloopVersion, Duration timeout) {
        int millis = Math.toIntExact(timeout.toMillis());
        this.producer = new KafkaProducer<>(
                settings.properties(Map.of("acks", "all", "enable.idempotence", "true",
                        "max.block.ms", millis, "request.timeout.ms", millis, "linger.ms", 0,
                        "delivery.timeout.ms", millis + 1000), "-producer"),
                new StringSerializer(), new ByteArraySerializer());
        this.tuneloopVersion = tuneloopVersion;
        this.timeout = timeout;
    }

    /** The version producers write into {@code Lineage.tuneloopVersion}. */
    public String tuneloopVersion() {
        return tuneloopVersion;
    }

    /** Called with every event once the broker has it (metrics). */
    public void onPublished(Consumer<EventEnvelope<?>> listener) {
        listeners.add(listener);
    }

    public void publish(EventEnvelope<?> event) {
        String what = event.header().type() + " event " + event.header().eventId() + " of run "
                + event.header().runId() + " to " + event.topic();
        send(new ProducerRecord<>(event.topic(), event.key(), EventCodec.toBytes(event)), what);
        listeners.forEach(l -> l.accept(event));
    }

    /** Copies {@code record} to {@link Topics#DEAD_LETTER} with its origin and {@code reason} in headers. */
    public void deadLetter(ConsumerRecord<String, byte[]> record, String group, String reason) {
        ProducerRecord<String, byte[]> letter = new ProducerRecord<>(Topics.DEAD_LETTER, record.key(), record.value());
        letter.headers().add(DLQ_SOURCE_TOPIC, utf8(record.topic()))
                .add(DLQ_SOURCE_PARTITION, utf8(Integer.toString(record.partition())))
                .add(DLQ_SOURCE_OFFSET, utf8(Long.toString(record.offset())))
                .add(DLQ_GROUP, utf8(group))
                .add(DLQ_REASON, utf8(reason));
        for (Header header : record.headers()) {
            letter.headers().add(header);
        }
        send(letter, "dead letter of " + record.topic() + "-" + record.partition() + "@" + record.offset());
    }

    /** Publishes that failed (no acknowledgement in time, broker unreachable, …) since start: for metrics. */
    public long failures() {
        return failures.sum();
    }

    /** When and why the latest publish failed; empty if none did. */
    public Optional<String> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    private void send(ProducerRecord<String, byte[]> record, String what) {
        try {
            // Waits a little longer than the producer's delivery timeout: its verdict decides, not a race.
            producer.send(record).get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw failed(new PublishException("cannot publish " + what + ": " + e.getCause(), e.getCause()));
        } catch (TimeoutException e) {
            throw failed(new PublishException("cannot publish " + what + ": no acknowledgement within " + timeout,
                    e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed(new PublishException("interrupted while publishing " + what, e));
        } catch (KafkaException e) {
            throw failed(new PublishException("cannot publish " + what + ": " + e, e));
        }
    }

    private PublishException failed(PublishException e) {
        failures.increment();
        lastFailure = Instant.now() + " " + e.getMessage();
        return e;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
