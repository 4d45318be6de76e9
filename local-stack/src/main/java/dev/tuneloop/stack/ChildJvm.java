package dev.tuneloop.stack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM of the stack: started with the parent-watch agent (it exits when this JVM dies, even by SIGKILL),
 * stdout and stderr appended to a log file, stopped with SIGTERM (its shutdown hooks run) or killed with SIGKILL.
 */
public final class ChildJvm implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code java -javaagent:<agent> <arguments>} (the same Java as this JVM) with {@code environment} added to
     * this process's environment.
     *
     * @param arguments JVM options, then {@code -cp … main-class} or {@code -jar …}, then program arguments
     */
    public static ChildJvm start(String name, Path agentJar, List<String> arguments, Map<String, String> environment,
            Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-javaagent:" + agentJar.toAbsolutePath());
        command.addAll(arguments);
        Files.createDirectories(log.toAbsolutePath().getParent());
        Files.writeString(log, "# " + name + ": " + shown(command) + System.lineSeparator(), StandardCharsets.UTF_8);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // stdin stays a pipe from this JVM: the agent in the child watches it (see ParentWatch)
        builder.environment().putAll(environment);
        return new ChildJvm(name, builder.start(), log);
    }

    /** The command line with a long classpath abbreviated to its entry count. */
    private static String shown(List<String> command) {
        List<String> shown = new ArrayList<>(command);
        int cp = shown.indexOf("-cp");
        if (cp >= 0 && cp + 1 < shown.size() && shown.get(cp + 1).length() > 200) {
            shown.set(cp + 1, "<" + shown.get(cp + 1).split(java.io.File.pathSeparator).length + " classpath entries>");
        }
        return String.join(" ", shown);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code, or -1 while it runs. */
    public int exitCode() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    public Path log() {
        return log;
    }

    /** The last {@code lines} lines of the log, for error messages. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, then waits up to {@code grace}; SIGKILL if it is still running. Returns the exit code. */
    public int stop(Duration grace) {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    System.err.println("tuneloop: " + name + " (pid " + pid() + ") did not stop within " + grace
                            + " after SIGTERM; killing it");
                    return kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return kill();
            }
        }
        return process.exitValue();
    }

    /** SIGKILL, as a crash would (tests use it); returns the exit code. */
    public int kill() {
        process.destroyForcibly();
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Closes the pipe the child's parent-watch agent reads, as this JVM's death would. */
    void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    /** Waits up to {@code timeout} for the process to end; true if it did. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ", log " + log + ")";
    }
}
