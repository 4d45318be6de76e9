package dev.tuneloop.inference.messaging;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread reading assigned partitions without a consumer group (every replica reads everything, commits
 * nothing): {@link #read} runs until closed; an unexpected failure is logged, reported to {@code onRestart} and
 * reading starts over after 5 s. What the promotions and the checkpoints readers share.
 */
abstract class AssignedReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AssignedReader.class);

    private final String bootstrapServers;
    private final Map<String, String> security;
    private final String what;
    private final Runnable onRestart;
    private final Thread thread;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;

    /**
     * @param security TLS/SASL client properties ({@code KafkaClientConfig}), applied on top
     * @param what     what is read, for the thread name and logs (e.g. {@code promotions})
     */
    AssignedReader(String bootstrapServers, Map<String, String> security, String what, Runnable onRestart) {
        this.bootstrapServers = bootstrapServers;
        this.security = Map.copyOf(security);
        this.what = what;
        this.onRestart = onRestart;
        this.thread = new Thread(this::run, "tuneloop-" + what);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** One reading, from opening a consumer ({@link #open}) until closed or failed. */
    protected abstract void read();

    private void run() {
        while (running) {
            try {
                read();
            } catch (WakeupException e) {
                if (running) {
                    LOG.error("{} consumer woken up unexpectedly; starting over", what, e);
                }
            } catch (RuntimeException e) {
                LOG.error("{} consumer failed, starting over in 5 s: {}", what, e.toString(), e);
                onRestart.run();
                pause(5000);
            }
        }
    }

    /** A consumer that {@link #close} can wake; {@code offsetReset} {@code earliest} or {@code latest}. */
    protected final KafkaConsumer<String, byte[]> open(String offsetReset) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "tuneloop-inference-" + what + "-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, offsetReset);
        props.putAll(security);
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer());
        consumer = c;
        return c;
    }

    /**
     * The topic's partitions, waiting while it does not exist yet; {@code null} if closed meanwhile.
     *
     * @param meanwhile what is missing while it does not exist, for the log
     */
    protected final List<TopicPartition> awaitPartitions(KafkaConsumer<String, byte[]> c, String topic,
            String meanwhile) {
        while (running) {
            try {
                List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null && !infos.isEmpty()) {
                    return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                }
                LOG.warn("topic {} does not exist on {} yet; {} until it does", topic, bootstrapServers, meanwhile);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                LOG.warn("no answer from Kafka at {} about {} yet: {}", bootstrapServers, topic, e.getMessage());
            }
            pause(1000);
        }
        return null;
    }

    protected final boolean running() {
        return running;
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
