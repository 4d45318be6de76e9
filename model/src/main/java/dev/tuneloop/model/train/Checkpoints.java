package dev.tuneloop.model.train;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.safetensors.CheckpointTensors;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The checkpoint folders of a run: {@code checkpoints/epoch-0005/} (or {@code step-000400/}) holding the PEFT adapter
 * ({@code adapter_config.json}, {@code adapter_model.safetensors}), the run's {@code tuneloop_config.json}, and the
 * resume state ({@code optimizer.safetensors} with AdamW's moments, {@code trainer_state.json}); {@code eval.json}
 * once evaluated. A folder appears only complete: it is written under a temporary name and renamed.
 */
final class Checkpoints {
    static final String STATE = "trainer_state.json";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String EVAL = "eval.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {}

    record State(long step, double epoch, long totalSteps, int trainExamples, String dataSha256) {}

    static String name(long step, int epoch, boolean epochBoundary) {
        return epochBoundary ? String.format("epoch-%04d", epoch) : String.format("step-%06d", step);
    }

    static Path save(Path runDir, String name, Qwen2ForCausalLM lm, LoraConfig lora, TrainConfig config,
            AdamW optimizer, State state) throws IOException {
        Path root = runDir.resolve("checkpoints");
        Path tmp = root.resolve(".tmp-" + name);
        Path dir = root.resolve(name);
        deleteTree(tmp);
        Files.createDirectories(tmp);
        LoraAdapter.save(lm, lora, tmp);
        config.write(tmp.resolve("tuneloop_config.json"));
        SafetensorsWriter moments = new SafetensorsWriter().metadata("format", "pt")
                .metadata("optimizer_steps", Long.toString(optimizer.stepCount()));
        for (Map.Entry<String, NDArray> e : optimizer.expAvg().entrySet()) {
            moments.putFloats("exp_avg." + e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray());
        }
        for (Map.Entry<String, NDArray> e : optimizer.expAvgSq().entrySet()) {
            moments.putFloats("exp_avg_sq." + e.getKey(), e.getValue().getShape().getShape(),
                    e.getValue().toFloatArray());
        }
        moments.write(tmp.resolve(OPTIMIZER));
        ObjectNode s = JSON.createObjectNode();
        s.put("step", state.step()).put("epoch", state.epoch()).put("total_steps", state.totalSteps())
                .put("optimizer_steps", optimizer.stepCount()).put("train_examples", state.trainExamples())
                .put("data_sha256", state.dataSha256());
        Files.writeString(tmp.resolve(STATE), JSON.writeValueAsString(s));
        deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return dir;
    }

    /** The complete checkpoint with the highest step, if any. */
    static Optional<Path> latest(Path runDir) throws IOException {
        Path root = runDir.resolve("checkpoints");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> !d.getFileName().toString().startsWith(".") && Files.exists(d.resolve(STATE)))
                    .max(Comparator.comparingLong(Checkpoints::stepOf));
        }
    }

    static State readState(Path checkpoint) throws IOException {
        JsonNode s = JSON.readTree(Files.readString(checkpoint.resolve(STATE)));
        return new State(s.path("step").asLong(), s.path("epoch").asDouble(), s.path("total_steps").asLong(),
                s.path("train_examples").asInt(), s.path("data_sha256").asText());
    }

    /** Restores AdamW's moments and step count from a checkpoint (load the LoRA weights first). */
    static void restoreOptimizer(Path checkpoint, AdamW optimizer) throws IOException {
        Map<String, float[]> m = new HashMap<>();
        Map<String, float[]> v = new HashMap<>();
        long steps;
        try (CheckpointTensors t = CheckpointTensors.open(checkpoint, "optimizer")) {
            for (String name : t.names()) {
                if (name.startsWith("exp_avg_sq.")) {
                    v.put(name.substring("exp_avg_sq.".length()), t.floats(name));
                } else if (name.startsWith("exp_avg.")) {
                    m.put(name.substring("exp_avg.".length()), t.floats(name));
                }
            }
            steps = Long.parseLong(t.metadata().getOrDefault("optimizer_steps", "0"));
        }
        optimizer.restore(steps, m, v);
    }

    static void writeEval(Path checkpoint, ObjectNode eval) throws IOException {
        Files.writeString(checkpoint.resolve(EVAL), JSON.writeValueAsString(eval));
    }

    /** {@code best/}: the adapter files and eval result of the best checkpoint, replaced atomically. */
    static void promoteBest(Path runDir, Path checkpoint) throws IOException {
        Path tmp = runDir.resolve(".tmp-best");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors", "tuneloop_config.json", EVAL}) {
            Files.copy(checkpoint.resolve(f), tmp.resolve(f));
        }
        Files.writeString(tmp.resolve("checkpoint.txt"), checkpoint.getFileName() + "\n");
        Path best = runDir.resolve("best");
        deleteTree(best);
        Files.move(tmp, best, StandardCopyOption.ATOMIC_MOVE);
    }

    private static long stepOf(Path dir) {
        try {
            return readState(dir).step();
        } catch (IOException e) {
            return -1;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
                for (Path c : children) {
                    deleteTree(c);
                }
            }
        }
        Files.delete(dir);
    }
}
