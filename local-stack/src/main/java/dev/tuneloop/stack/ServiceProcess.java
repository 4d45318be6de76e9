package dev.tuneloop.stack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One tuneloop service as a child JVM from its Quarkus fast-jar ({@code <module>/target/quarkus-app/quarkus-run.jar}):
 * its configuration as {@code -D} system properties, its own HTTP port on 127.0.0.1, output in a log file, ready when
 * {@code /q/health/ready} answers 200. It runs with the parent-watch agent, so it never outlives this JVM.
 *
 * <pre>{@code
 * try (ServiceProcess trainer = ServiceProcess.start(spec, 0, agentJar, logs.resolve("trainer-worker.log"))) {
 *     trainer.awaitReady(Duration.ofMinutes(2));
 * }
 * }</pre>
 */
public final class ServiceProcess implements AutoCloseable {
    /** Longer than the workers' hand-off timeout (60 s): a trainer stops at its next step boundary on SIGTERM. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(90);
    /**
     * What every service JVM gets: bitwise-reproducible MKL, OpenMP threads that spin 1000 rounds before sleeping,
     * also once several threads have run parallel operators (ACTIVE: PASSIVE then drops the spin to 0; the
     * launcher's settings, explained there and in docs/benchmarks.md).
     */
    public static final Map<String, String> ENVIRONMENT = Map.of("MKL_CBWR", "AUTO,STRICT",
            "OMP_WAIT_POLICY", "ACTIVE", "GOMP_SPINCOUNT", "1000");

    /**
     * @param name the service's name in logs and errors ({@code trainer-worker}, …)
     * @param jar its {@code quarkus-run.jar}
     * @param config configuration keys, passed as {@code -Dkey=value} (Quarkus reads system properties first)
     * @param jvmOptions e.g. {@code -Xmx1g}
     * @param environment added to this process's environment (and {@link #ENVIRONMENT})
     */
    public record Spec(String name, Path jar, Map<String, String> config, List<String> jvmOptions,
            Map<String, String> environment) {
        public Spec {
            config = Map.copyOf(config);
            jvmOptions = List.copyOf(jvmOptions);
            environment = Map.copyOf(environment);
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Spec spec;
    private final ChildJvm process;
    private final int port;

    private ServiceProcess(Spec spec, ChildJvm process, int port) {
        this.spec = spec;
        this.process = process;
        this.port = port;
    }

    /**
     * Starts the service on {@code port} (0: a free one) without waiting for it; see {@link #awaitReady(Duration)}.
     * A missing jar is an error naming the build that makes it.
     */
    public static ServiceProcess start(Spec spec, int port, Path agentJar, Path log) throws IOException {
        if (!Files.isRegularFile(spec.jar())) {
            throw new IOException(spec.name() + ": " + spec.jar() + " does not exist; build the services first ("
                    + "./mvnw -B -DskipTests -pl orchestrator,trainer-worker,eval-worker,inference-service -am package,"
                    + " or just ./tuneloop stack up, which builds what is missing)");
        }
        int chosen = Ports.choose(port, spec.name());
        Map<String, String> config = new TreeMap<>(spec.config());
        config.put("quarkus.http.host", "127.0.0.1");
        config.put("quarkus.http.port", Integer.toString(chosen));
        List<String> arguments = new ArrayList<>(spec.jvmOptions());
        arguments.add("-Dai.djl.offline=true");
        arguments.add("-Dfile.encoding=UTF-8");
        config.forEach((key, value) -> arguments.add("-D" + key + "=" + value));
        arguments.add("-jar");
        arguments.add(spec.jar().toAbsolutePath().toString());
        Map<String, String> environment = new LinkedHashMap<>(ENVIRONMENT);
        environment.putAll(spec.environment());
        return new ServiceProcess(spec, ChildJvm.start(spec.name(), agentJar, arguments, environment, log), chosen);
    }

    public String name() {
        return spec.name();
    }

    /** {@code http://127.0.0.1:<port>} */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public ChildJvm process() {
        return process;
    }

    /**
     * Waits until {@code /q/health/ready} answers 200. Fails (with the log's last lines) when the process exits or
     * the timeout passes.
     */
    public void awaitReady(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(url() + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name() + " exited with code " + process.exitCode() + " while starting; log "
                        + process.log() + ":\n" + process.logTail(40));
            }
            try {
                HttpResponse<String> response = HTTP.send(ready, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + name(), e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + name(), e);
            }
        }
        throw new IOException(name() + " was not ready at " + url() + "/q/health/ready within " + timeout
                + " (last: " + last + "); log " + process.log() + ":\n" + process.logTail(40));
    }

    /** SIGTERM (Quarkus shuts down, a worker hands its job off), SIGKILL after {@link #STOP_GRACE}. */
    public int stop() {
        return process.stop(STOP_GRACE);
    }

    /** SIGKILL, as a crash would. */
    public int kill() {
        return process.kill();
    }

    @Override
    public void close() {
        stop();
    }
}
