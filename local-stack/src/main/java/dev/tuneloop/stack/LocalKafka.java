package dev.tuneloop.stack;

import dev.tuneloop.contracts.TopicSpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node KRaft broker (combined broker + controller) in a child JVM ({@link KafkaNode}) on 127.0.0.1,
 * its log directory under {@code <dir>/data}: formatted once, then reused, so topics, events and committed offsets
 * survive restarts. Internal topics have replication factor 1 (consumer groups never form otherwise) and the first
 * group rebalance is not delayed; topics are never auto-created.
 */
public final class LocalKafka implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final ChildJvm process;
    private final String bootstrapServers;

    private LocalKafka(ChildJvm process, String bootstrapServers) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Starts the broker and returns once it answers an admin client.
     *
     * @param dir the broker's state folder ({@code data/}, {@code server.properties}, {@code cluster-id})
     * @param port the client port, 0 for a free one
     * @param classpath a classpath with {@code kafka_2.13} and this module (usually this JVM's)
     */
    public static LocalKafka start(Path dir, int port, Path agentJar, String classpath, Path log) throws IOException {
        int clientPort = Ports.choose(port, "Kafka");
        int controllerPort = Ports.choose(0, "the Kafka controller");
        Files.createDirectories(dir.resolve("data"));
        Path properties = dir.resolve("server.properties");
        Files.writeString(properties, serverProperties(dir.resolve("data").toAbsolutePath(), clientPort,
                controllerPort), StandardCharsets.UTF_8);
        ChildJvm jvm = ChildJvm.start("kafka", agentJar, List.of(
                "-Xmx512m", "-XX:+UseG1GC", "-Dfile.encoding=UTF-8",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka=warn",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp", classpath, KafkaNode.class.getName(),
                properties.toAbsolutePath().toString(), clusterId(dir)), Map.of(), log);
        String bootstrap = "127.0.0.1:" + clientPort;
        LocalKafka kafka = new LocalKafka(jvm, bootstrap);
        try {
            kafka.awaitReady();
        } catch (RuntimeException | IOException e) {
            jvm.kill();
            throw e;
        }
        return kafka;
    }

    private static String serverProperties(Path data, int clientPort, int controllerPort) {
        return String.join("\n",
                "# written by tuneloop's LocalKafka at every start (ports may change; the data stays)",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + clientPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data,
                "num.partitions=1",
                "default.replication.factor=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "");
    }

    /** The cluster id, made once per state folder (a formatted log directory only starts with its own id). */
    private static String clusterId(Path dir) throws IOException {
        Path file = dir.resolve("cluster-id");
        if (Files.isRegularFile(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        String id = Uuid.randomUuid().toString();
        Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
        return id;
    }

    private void awaitReady() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the Kafka broker exited with code " + process.exitCode() + " while starting;"
                        + " log " + process.log() + ":\n" + process.logTail(30));
            }
            if (!accepts(bootstrapServers)) {
                sleep(250);
                continue;
            }
            try (Admin admin = admin()) {
                if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the Kafka broker", e);
            }
            sleep(250);
        }
        throw new IOException("the Kafka broker at " + bootstrapServers + " did not answer within " + START_TIMEOUT
                + " (last error: " + last + "); log " + process.log() + ":\n" + process.logTail(30));
    }

    /** Whether {@code host:port} accepts a TCP connection (before an admin client is made, which would warn). */
    private static boolean accepts(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1))), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public ChildJvm process() {
        return process;
    }

    public Admin admin() {
        return admin(bootstrapServers);
    }

    static Admin admin(String bootstrapServers) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    /**
     * Creates each topic of {@code specs} that does not exist yet, with its partitions and configs and the broker's
     * default replication factor; existing topics are left as they are. Returns the names created.
     */
    public static List<String> ensureTopics(String bootstrapServers, List<TopicSpec> specs) throws IOException {
        try (Admin admin = admin(bootstrapServers)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (TopicSpec spec : specs) {
                if (!existing.contains(spec.name())) {
                    missing.add(new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.empty())
                            .configs(spec.config()));
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
            return missing.stream().map(NewTopic::name).toList();
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot create the topics " + specs.stream().map(TopicSpec::name).toList()
                    + " on Kafka at " + bootstrapServers + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating topics on " + bootstrapServers, e);
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the Kafka broker", e);
        }
    }

    /** Stops the broker with SIGTERM (a controlled shutdown; its data stays) and waits for it. */
    @Override
    public void close() {
        process.stop(Duration.ofSeconds(30));
    }
}
