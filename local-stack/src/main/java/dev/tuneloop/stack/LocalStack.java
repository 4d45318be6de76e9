package dev.tuneloop.stack;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StorageSettings;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole system on one machine: a Kafka broker ({@link LocalKafka}, or an external one), an S3 server
 * ({@link LocalS3}, or an external one), every topic of {@link Topics#all()}, and the four services as child JVMs.
 * State lives under one folder and survives restarts:
 *
 * <pre>
 * STATE/kafka/     the broker's log directory and server.properties
 * STATE/s3/        the objects, one folder per bucket
 * STATE/logs/      kafka.log and one log per service
 * STATE/work/      the services' scratch space
 * STATE/stack.lock held while a stack runs on this folder
 * </pre>
 *
 * {@link #close()} stops the services (SIGTERM; a trainer hands its run off), then the broker, then S3. Every child
 * JVM also ends by itself when this JVM dies ({@link ParentWatch}).
 */
public final class LocalStack implements AutoCloseable {
    /**
     * @param stateDir the stack's folder
     * @param repoDir the repository, whose {@code <module>/target/quarkus-app/} hold the services
     * @param model the base model every service uses
     * @param externalKafka {@code host:port} of a broker to use instead of starting one; {@code null} to start one
     * @param kafkaPort the local broker's port, 0 for a free one
     * @param externalS3 an object store to use instead of starting S3Proxy; {@code null} to start one
     * @param s3Port the local S3 server's port, 0 for a free one
     * @param bucket the local S3 server's bucket
     * @param readyTimeout how long each service may take to become ready
     */
    public record Options(Path stateDir, Path repoDir, StackModel model, String externalKafka, int kafkaPort,
            StorageSettings externalS3, int s3Port, String bucket, Duration readyTimeout) {
        public static Options local(Path stateDir, Path repoDir, StackModel model) {
            return new Options(stateDir, repoDir, model, null, 0, null, 0, "tuneloop", Duration.ofMinutes(5));
        }
    }

    private final Path stateDir;
    private final FileLock lock;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Map<StackService, ServiceProcess> services = new EnumMap<>(StackService.class);
    private String kafka;
    private StorageSettings storage;
    private boolean closed;

    private LocalStack(Path stateDir, FileLock lock) {
        this.stateDir = stateDir;
        this.lock = lock;
    }

    /** Starts everything, each part announced through {@code say}; on a failure stops what it started and throws. */
    public static LocalStack start(Options options, Consumer<String> say) throws IOException {
        Path state = options.stateDir().toAbsolutePath().normalize();
        Files.createDirectories(state);
        FileChannel channel = FileChannel.open(state.resolve("stack.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameJvm) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("another stack runs on " + state + " (" + state.resolve("stack.lock")
                    + " is locked); stop it or choose another --state");
        }
        LocalStack stack = new LocalStack(state, lock);
        try {
            stack.startAll(options, say);
            return stack;
        } catch (IOException | RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Options o, Consumer<String> say) throws IOException {
        Path logs = logsDir();
        Files.createDirectories(logs);
        Path agent = ParentWatch.agentJar(stateDir.resolve("run"));
        if (o.externalKafka() == null) {
            say.accept("starting Kafka (KRaft, state in " + stateDir.resolve("kafka") + ") ...");
            LocalKafka broker = LocalKafka.start(stateDir.resolve("kafka"), o.kafkaPort(), agent,
                    System.getProperty("java.class.path"), logs.resolve("kafka.log"));
            started.add(broker);
            kafka = broker.bootstrapServers();
        } else {
            kafka = o.externalKafka();
        }
        List<String> created = LocalKafka.ensureTopics(kafka, Topics.all());
        if (!created.isEmpty()) {
            say.accept("created topics " + created);
        }
        if (o.externalS3() == null) {
            say.accept("starting S3 (S3Proxy, objects in " + stateDir.resolve("s3") + ") ...");
            LocalS3 s3 = LocalS3.start(stateDir.resolve("s3"), o.s3Port(), o.bucket());
            started.add(s3);
            storage = s3.settings();
        } else {
            storage = o.externalS3();
            try (ObjectStore store = new ObjectStore(storage)) {
                store.ensureBucket();
            }
        }
        say.accept("starting " + StackService.values().length + " services (model " + o.model().id() + ", logs in "
                + logs + ") ...");
        for (StackService service : StackService.values()) {
            ServiceProcess.Spec spec = service.spec(o.repoDir(), kafka, storage, o.model(), stateDir.resolve("work"));
            ServiceProcess process = ServiceProcess.start(spec, 0, agent, logs.resolve(service.module() + ".log"));
            services.put(service, process);
        }
        for (ServiceProcess process : services.values()) {
            process.awaitReady(o.readyTimeout());
            say.accept(process.name() + " ready at " + process.url());
        }
    }

    public Path stateDir() {
        return stateDir;
    }

    public Path logsDir() {
        return stateDir.resolve("logs");
    }

    /** {@code host:port} of the broker. */
    public String kafkaBootstrapServers() {
        return kafka;
    }

    public StorageSettings storage() {
        return storage;
    }

    public ServiceProcess service(StackService service) {
        return services.get(service);
    }

    /** A service or the local broker that exited while the stack runs, described with its exit code and log. */
    public java.util.Optional<String> exited() {
        for (ServiceProcess process : services.values()) {
            if (!process.process().isAlive()) {
                return java.util.Optional.of(process.name() + " exited with code " + process.process().exitCode()
                        + " (log " + process.process().log() + ")");
            }
        }
        for (AutoCloseable part : started) {
            if (part instanceof LocalKafka broker && !broker.process().isAlive()) {
                return java.util.Optional.of("the Kafka broker exited with code " + broker.process().exitCode()
                        + " (log " + broker.process().log() + ")");
            }
        }
        return java.util.Optional.empty();
    }

    public String orchestratorUrl() {
        return services.get(StackService.ORCHESTRATOR).url();
    }

    public String inferenceUrl() {
        return services.get(StackService.INFERENCE).url();
    }

    /** Stops the services (in parallel, SIGTERM), then the broker, then S3; releases the state folder. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Thread> stopping = new ArrayList<>();
        for (ServiceProcess process : services.values()) {
            Thread t = new Thread(process::stop, "stop-" + process.name());
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                services.values().forEach(ServiceProcess::kill);
            }
        }
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                System.err.println("tuneloop: stopping " + started.get(i) + " failed: " + e.getMessage());
            }
        }
        try {
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            System.err.println("tuneloop: cannot release " + stateDir.resolve("stack.lock") + ": " + e.getMessage());
        }
    }
}
