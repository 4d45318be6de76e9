package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./tuneloop stack up} as a user runs it, in its own JVM: the printed URLs answer; when the CLI is SIGKILLed
 * every process it started ends by itself; a restart on the same state finds the topics it made; Ctrl-C (SIGTERM here,
 * the same shutdown path) stops everything cleanly.
 */
class StackCommandIT {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void stackUpServesTheUrlsItPrintsLeavesNoOrphansAndKeepsItsState() throws Exception {
        Path state = dir.resolve("stack");

        Process first = stackUp(state, dir.resolve("first.err"));
        Map<String, String> urls = awaitUp(first, dir.resolve("first.err"));
        assertEquals(200, get(urls.get("orchestrator") + "/runs").statusCode());
        assertEquals("[]", get(urls.get("orchestrator") + "/runs").body());
        HttpResponse<String> adapter = get(urls.get("inference") + "/v1/adapter");
        assertEquals(200, adapter.statusCode(), adapter.body());
        assertTrue(adapter.body().contains("\"adapter\":null"), "nothing promoted yet: " + adapter.body());
        List<ProcessHandle> children = first.children().toList();
        assertEquals(5, children.size(), "Kafka and four services: " + describe(children));

        first.destroyForcibly();
        first.waitFor(30, TimeUnit.SECONDS);
        for (ProcessHandle child : children) {
            assertTrue(child.onExit().completeOnTimeout(child, 60, TimeUnit.SECONDS).get() != null
                    && !child.isAlive(), "orphan after the CLI was SIGKILLed: " + describe(List.of(child)));
        }
        assertTrue(Files.readString(dir.resolve("first.err")).contains("created topics"));

        Process second = stackUp(state, dir.resolve("second.err"));
        Map<String, String> again = awaitUp(second, dir.resolve("second.err"));
        assertEquals(200, get(again.get("orchestrator") + "/runs").statusCode());
        List<ProcessHandle> secondChildren = second.children().toList();
        second.destroy();
        assertTrue(second.waitFor(150, TimeUnit.SECONDS), "stack up stops within the services' grace period");
        String err = Files.readString(dir.resolve("second.err"));
        assertFalse(err.contains("created topics"), "the topics survived the restart:\n" + err);
        assertTrue(err.contains("tuneloop: stopped"), "the shutdown hook stopped the stack:\n" + err);
        for (ProcessHandle child : secondChildren) {
            assertFalse(child.isAlive(), "still running after a clean stop: " + describe(List.of(child)));
        }
    }

    private Process stackUp(Path state, Path stderr) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-Dai.djl.offline=true",
                "-Dtuneloop.home=" + System.getProperty("tuneloop.home"),
                "-Dtuneloop.shared.dir=" + System.getProperty("tuneloop.shared.dir"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "stack", "up", "--state", state.toString(), "--model", "tiny"));
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }

    /** Reads stdout until the endpoints are printed; returns name → URL. */
    private static Map<String, String> awaitUp(Process cli, Path stderr) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Map<String, String>> up = CompletableFuture.supplyAsync(() -> {
            Map<String, String> urls = new HashMap<>();
            try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    System.out.println("stack up: " + line);
                    String[] words = line.trim().split("\\s+");
                    if (line.startsWith("  ") && words.length >= 2) {
                        urls.put(words[0], words[1]);
                    }
                    if (words[0].equals("logs")) {
                        return urls;
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return urls;
        });
        Map<String, String> urls = up.get(10, TimeUnit.MINUTES);
        assertTrue(urls.containsKey("orchestrator") && urls.containsKey("inference") && urls.containsKey("kafka")
                && urls.containsKey("s3"), "printed " + urls + "; stderr:\n" + Files.readString(stderr));
        return urls;
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String describe(List<ProcessHandle> processes) {
        StringBuilder sb = new StringBuilder();
        for (ProcessHandle p : processes) {
            String args = String.join(" ", p.info().arguments().orElse(new String[0]));
            sb.append("\n  pid ").append(p.pid()).append(": ")
                    .append(args.length() > 300 ? args.substring(args.length() - 300) : args);
        }
        return sb.toString();
    }
}
