package dev.tuneloop.systest;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tuneloop.stack.ParentWatch;
import dev.tuneloop.stack.ServiceProcess;
import dev.tuneloop.stack.StackModel;
import dev.tuneloop.stack.StackService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The system under test: {@link Infrastructure} plus service instances as child JVMs from their packaged fast-jars
 * ({@link ServiceProcess}), each under a name of the test's choosing ({@code trainer-1}, {@code trainer-2}, …) with its
 * own scratch folder and log. The tiny model. Workers leave a dead member's partitions after 6 s (Kafka session
 * timeout), so a SIGKILLed worker's job moves on quickly.
 */
final class Fleet implements AutoCloseable {
    static final Duration READY = Duration.ofMinutes(4);

    final Path dir;
    final Infrastructure infra;
    final StackModel model;
    private final Path repo;
    private final Path agent;
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();

    private Fleet(Path dir, Infrastructure infra, StackModel model, Path repo, Path agent) {
        this.dir = dir;
        this.infra = infra;
        this.model = model;
        this.repo = repo;
        this.agent = agent;
    }

    static Fleet start(Path dir) throws Exception {
        Path repo = Path.of(System.getProperty("tuneloop.home", "..")).toAbsolutePath().normalize();
        Path shared = Path.of(System.getProperty("tuneloop.shared.dir", "../../shared")).toAbsolutePath().normalize();
        for (StackService s : StackService.values()) {
            if (!Files.isRegularFile(s.jar(repo))) {
                fail(s.jar(repo) + " is missing: the system tests run the packaged services (./mvnw -B verify, or"
                        + " ./mvnw -B -DskipTests -pl " + s.module() + " -am package first)");
            }
        }
        StackModel model = StackModel.tiny(shared, Path.of(System.getProperty("user.home"), ".cache", "tuneloop"));
        Path agent = ParentWatch.agentJar(dir.resolve("run"));
        return new Fleet(dir, Infrastructure.start(dir, agent), model, repo, agent);
    }

    /** Starts {@code name} as an instance of {@code service} with {@code extra} configuration; does not wait. */
    ServiceProcess start(String name, StackService service, Map<String, String> extra) throws Exception {
        ServiceProcess.Spec base = service.spec(repo, infra.kafka(), infra.storage(), model,
                dir.resolve("work").resolve(name));
        Map<String, String> config = new TreeMap<>(base.config());
        switch (service) {
            case TRAINER -> {
                config.put("tuneloop.trainer.worker-id", name);
                config.put("tuneloop.trainer.messaging.kafka.\"session.timeout.ms\"", "6000");
                config.put("tuneloop.trainer.messaging.kafka.\"heartbeat.interval.ms\"", "1000");
            }
            case EVALUATOR -> {
                config.put("tuneloop.evaluator.messaging.kafka.\"session.timeout.ms\"", "6000");
                config.put("tuneloop.evaluator.messaging.kafka.\"heartbeat.interval.ms\"", "1000");
            }
            default -> { }
        }
        config.putAll(extra);
        ServiceProcess.Spec spec = new ServiceProcess.Spec(name, base.jar(), config, base.jvmOptions(),
                base.environment());
        ServiceProcess process = ServiceProcess.start(spec, 0, agent, dir.resolve("logs").resolve(name + ".log"));
        services.put(name, process);
        return process;
    }

    /** Waits until every running instance answers {@code /q/health/ready}. */
    void awaitReady() throws Exception {
        for (ServiceProcess p : services.values()) {
            if (p.process().isAlive()) {
                p.awaitReady(READY);
            }
        }
    }

    ServiceProcess get(String name) {
        ServiceProcess p = services.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no service instance " + name + "; started: " + services.keySet());
        }
        return p;
    }

    String url(String name) {
        return get(name).url();
    }

    /** SIGKILL of the instance's JVM, as a crash. */
    void kill(String name) {
        get(name).kill();
    }

    /** The last lines of every instance's log, for failure messages. */
    String logs() {
        StringBuilder out = new StringBuilder();
        services.forEach((name, p) -> out.append("\n--- ").append(name).append(" (").append(p.process().log())
                .append(") ---\n").append(p.process().logTail(15)));
        return out.toString();
    }

    /** Kills every instance (the tests' state is thrown away), then stops Kafka and S3. */
    @Override
    public void close() {
        List<Thread> killing = new ArrayList<>();
        for (ServiceProcess p : services.values()) {
            Thread t = new Thread(p::kill, "kill-" + p.name());
            t.start();
            killing.add(t);
        }
        for (Thread t : killing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        infra.close();
    }
}
