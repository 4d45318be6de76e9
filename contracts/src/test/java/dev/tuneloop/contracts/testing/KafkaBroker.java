package dev.tuneloop.contracts.testing;

import dev.tuneloop.contracts.TopicSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (combined broker + controller) in the test JVM, on a free port of localhost.
 * Shipped in contracts' test-jar for services' tests; they also need {@code org.apache.kafka:kafka-test-common-runtime}
 * and {@code org.apache.kafka:kafka-clients:test} in test scope.
 *
 * <p>Internal topics get replication factor 1 (with the default of 3 consumer groups never form on one broker and
 * clients time out silently), the first group rebalance is not delayed, and topics are never auto-created: a test
 * that forgets {@link #createTopics} fails instead of working by accident.
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.start()) {
 *     kafka.createTopics(Topics.all());
 *     String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Map<String, String> BROKER_CONFIG = Map.of(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "1",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1",
            "group.initial.rebalance.delay.ms", "0",
            "auto.create.topics.enable", "false");

    private final KafkaClusterTestKit cluster;

    private KafkaBroker(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Formats a fresh log directory and starts the broker; returns once it accepts clients. */
    public static KafkaBroker start() {
        KafkaClusterTestKit cluster = null;
        try {
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build());
            BROKER_CONFIG.forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new KafkaBroker(cluster);
        } catch (Exception e) {
            if (cluster != null) {
                try {
                    cluster.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot start the in-process Kafka broker: " + e.getMessage(), e);
        }
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** An admin client on this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /**
     * Creates each topic with its spec's partitions and topic configs (replication factor 1) and waits until all
     * exist. A topic that already exists is an error: every test starts from topics it made.
     */
    public void createTopics(List<TopicSpec> specs) {
        List<NewTopic> topics = new ArrayList<>();
        for (TopicSpec spec : specs) {
            topics.add(new NewTopic(spec.name(), spec.partitions(), (short) 1).configs(spec.config()));
        }
        try (Admin admin = admin()) {
            admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topics "
                    + specs.stream().map(TopicSpec::name).toList() + " on " + bootstrapServers() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /**
     * Stops the broker role of the node (the KRaft controller keeps running), as a crashed or restarted broker
     * process would look to clients: its port refuses connections until {@link #restartBroker()}.
     */
    public void stopBroker() {
        for (BrokerServer broker : cluster.brokers().values()) {
            broker.shutdown();
            broker.awaitShutdown();
        }
    }

    /**
     * Starts the broker stopped by {@link #stopBroker()} again, on the same port with the same log directory (its
     * topics, records and committed offsets are kept), and waits until it serves clients.
     */
    public void restartBroker() {
        try {
            for (BrokerServer broker : cluster.brokers().values()) {
                broker.startup();
            }
            cluster.waitForReadyBrokers();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot restart the Kafka broker at " + bootstrapServers() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restarting the Kafka broker", e);
        }
    }

    /** Stops the broker and deletes its log directory. */
    public void stop() {
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the Kafka broker at " + bootstrapServers(), e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
