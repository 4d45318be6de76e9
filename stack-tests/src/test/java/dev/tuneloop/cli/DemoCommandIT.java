package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.stack.LocalS3;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./tuneloop demo --model tiny} end to end: a real KRaft broker and S3Proxy, the four packaged services as
 * child JVMs; the printed run, promoted adapter and answer are checked against what the stack stored.
 */
class DemoCommandIT {
    @TempDir
    Path dir;

    @Test
    void theTinyDemoTrainsEvaluatesPromotesAndAnswersWithThePromotedAdapter() throws Exception {
        Path state = dir.resolve("demo");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        long start = System.nanoTime();
        int exit;
        try (PrintStream out = new PrintStream(stdout, true, StandardCharsets.UTF_8);
                PrintStream err = new PrintStream(new TeeStream(stderr, System.err), true, StandardCharsets.UTF_8)) {
            exit = DemoCommand.run("tiny", state, out, err);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        String printed = stdout.toString(StandardCharsets.UTF_8);
        System.out.println(printed + "demo took " + took.toSeconds() + " s");
        assertEquals(0, exit, "exit code; stdout:\n" + printed + "\nstderr:\n" + stderr);
        assertTrue(took.compareTo(Duration.ofMinutes(10)) < 0, "the tiny demo must finish in under 10 min, took "
                + took);

        Map<String, String> fields = fields(printed);
        String runId = fields.get("run id");
        String uri = fields.get("adapter uri");
        String sha256 = fields.get("adapter sha256");
        assertNotNull(runId, printed);
        assertTrue(runId.matches("demo-\\d{8}-\\d{6}"), runId);
        assertEquals("s3://tuneloop/runs/" + runId + "/checkpoints/epoch-0001/adapter_model.safetensors", uri);
        assertTrue(sha256.matches("[0-9a-f]{64}"), sha256);
        JsonNode adapter = JsonHttp.JSON.readTree(fields.get("adapter field"));
        assertEquals(runId, adapter.path("run").asText(), "the answer came from the promoted adapter: " + adapter);
        assertEquals("epoch-0001", adapter.path("checkpoint").asText());
        assertTrue(printed.contains("question:      Which NFL team represented the AFC at Super Bowl 50?"), printed);

        // the stack was stopped: every process it started is gone, its objects stay on disk
        assertEquals(0, ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count(),
                "child processes left behind");
        try (LocalS3 s3 = LocalS3.start(state.resolve("s3"), 0, "tuneloop");
                ObjectStore store = new ObjectStore(s3.settings());
                InputStream in = store.open(ObjectUri.parse(uri))) {
            byte[] bytes = in.readAllBytes();
            assertEquals(sha256, Sha256.of(bytes), "printed sha256 vs the bytes of " + uri + " (" + bytes.length
                    + " bytes)");
            assertTrue(bytes.length > 1000, "an adapter of " + bytes.length + " bytes");
        }
    }

    /** {@code name: value} lines of the demo's stdout. */
    static Map<String, String> fields(String printed) {
        Map<String, String> fields = new HashMap<>();
        for (String line : printed.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                fields.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return fields;
    }

    /** Keeps the demo's stderr for the assertion messages and shows it live in the test log. */
    static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws java.io.IOException {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }
    }
}
