package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run SIGKILLed (a child JVM, mid-epoch and mid-accumulation, with LoRA dropout on) and then resumed
 * reproduces the uninterrupted run's losses and final adapter exactly.
 */
class TrainResumeTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path train;
    static Path eval;

    @BeforeAll
    static void data() throws IOException {
        model = TinyModel.create(tmp.resolve("tiny"), Fixtures.path("models/qwen2.5-0.5b-instruct"), 64, 2, 3);
        List<String> lines = Files.readAllLines(Fixtures.path("data/squad-v1.1/train-proxy-36-articles.jsonl"));
        train = Files.write(tmp.resolve("train.jsonl"), lines.subList(0, 12));
        eval = Files.write(tmp.resolve("eval.jsonl"),
                Files.readAllLines(Fixtures.path("data/squad-v1.1/dev-12-articles.jsonl")).subList(0, 4));
    }

    @Test
    void killedRunResumesToTheSameLossesAndAdapter() throws Exception {
        // 12 examples, micro-batches of 2, 2 per step: 3 steps per epoch, 6 in all; checkpoints every 2 steps.
        Path uninterrupted = tmp.resolve("run-a");
        Child a = Child.start(args(uninterrupted, false), null);
        assertEquals(0, a.waitFor(), a.stderr());

        Path killed = tmp.resolve("run-b");
        Child b = Child.start(args(killed, false), "5:1"); // stop before the 2nd micro-step of step 5 (epoch 2)
        b.awaitLine("paused before micro-step 1 of step 5");
        b.process.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
        b.process.waitFor(30, TimeUnit.SECONDS);
        assertTrue(Files.exists(killed.resolve("checkpoints/step-000004/trainer_state.json")));
        assertFalse(Files.exists(killed.resolve("checkpoints/epoch-0002")), "the kill came before the last checkpoint");

        Child c = Child.start(args(killed, true), null);
        assertEquals(0, c.waitFor(), c.stderr());
        assertTrue(c.stderr().contains("resuming from step-000004 at step 4/6"), c.stderr());

        assertEquals(losses(uninterrupted), losses(killed), "per-step training losses");
        assertEquals(6, losses(killed).size());
        try (SafetensorsFile x = SafetensorsFile.open(uninterrupted.resolve("checkpoints/epoch-0002/adapter_model.safetensors"));
                SafetensorsFile y = SafetensorsFile.open(killed.resolve("checkpoints/epoch-0002/adapter_model.safetensors"))) {
            assertEquals(x.tensors().keySet(), y.tensors().keySet());
            for (String name : x.tensors().keySet()) {
                assertArrayEquals(x.floats(name), y.floats(name), name + " differs after resume");
            }
        }
    }

    @Test
    void nonEmptyOutputWithoutResumeIsRefused() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(out.resolve("something.txt"), "x");
        Child c = Child.start(args(out, false), null);
        assertEquals(2, c.waitFor());
        assertTrue(c.stderr().contains("output folder " + out + " is not empty"), c.stderr());
    }

    private static List<String> args(Path out, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--train", train.toString(),
                "--eval", eval.toString(), "--out", out.toString(), "--epochs", "2", "--batch-size", "2",
                "--grad-accum", "2", "--lora-dropout", "0.1", "--save-every-steps", "2", "--eval-limit", "2",
                "--eval-max-new-tokens", "2", "--max-seq-len", "160", "--lr", "1e-3", "--recompute", "true"));
        if (resume) {
            a.add("--resume");
        }
        return a;
    }

    private static Map<Long, Double> losses(Path run) throws IOException {
        Map<Long, Double> out = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(line);
            if (n.get("type").asText().equals("train")) {
                if (out.put(n.get("step").asLong(), n.get("loss").asDouble()) != null) {
                    fail("step " + n.get("step") + " logged twice in " + run);
                }
            }
        }
        return out;
    }

    /** {@code tuneloop} in a child JVM, as users run it (same class path, same thread count). */
    static final class Child {
        final Process process;
        private final StringBuilder err = new StringBuilder();
        private final Thread reader;

        private Child(Process p) {
            this.process = p;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (err) {
                            err.append(line).append('\n');
                            err.notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // the process was killed
                }
            });
            reader.start();
        }

        static Child start(List<String> args, String pauseAt) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                    "dev.tuneloop.cli.Main"));
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("MKL_CBWR", "AUTO,STRICT");
            pb.environment().put("OMP_WAIT_POLICY", "ACTIVE");
            pb.environment().put("GOMP_SPINCOUNT", "1000");
            if (pauseAt != null) {
                pb.environment().put("TUNELOOP_PAUSE_AT", pauseAt);
            }
            return new Child(pb.start());
        }

        int waitFor() throws InterruptedException {
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                fail("child did not finish in 5 minutes:\n" + stderr());
            }
            reader.join(10_000);
            return process.exitValue();
        }

        void awaitLine(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            synchronized (err) {
                while (err.indexOf(text) < 0) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        fail("child never printed '" + text + "':\n" + err);
                    }
                    err.wait(200);
                }
            }
        }

        String stderr() {
            synchronized (err) {
                return err.toString();
            }
        }
    }
}
