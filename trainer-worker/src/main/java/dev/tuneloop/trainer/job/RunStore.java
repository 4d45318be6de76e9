package dev.tuneloop.trainer.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One run's objects in the store ({@link RunLayout}); every upload and download is verified by sha256. */
final class RunStore {
    private static final Logger LOG = LoggerFactory.getLogger(RunStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MANIFEST = "manifest.json";
    static final String METRICS = "metrics.jsonl";
    /** What a checkpoint publishes: the PEFT adapter plus the prompt and eval settings it was trained with. */
    static final List<String> PUBLISHED_FILES =
            List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS, ServingPrompt.CONFIG_FILE);

    private final ObjectStore store;
    private final RunLayout layout;

    RunStore(ObjectStore store, RunLayout layout) {
        this.store = store;
        this.layout = layout;
    }

    RunLayout layout() {
        return layout;
    }

    /** How the run ended ({@code completed}, {@code failed}, {@code cancelled}), if it did. */
    Optional<String> outcome() throws IOException {
        if (!store.exists(layout.outcome())) {
            return Optional.empty();
        }
        return Optional.of(readJson(layout.outcome()).path("outcome").asText("unknown"));
    }

    void writeOutcome(String outcome, String workerId, String detail) throws IOException {
        ObjectNode o = JSON.createObjectNode().put("outcome", outcome).put("workerId", workerId)
                .put("at", Instant.now().toString()).put("detail", detail);
        store.putBytes(layout.outcome(), JSON.writeValueAsBytes(o));
    }

    /** Records that {@code workerId} takes the run now; returns the attempt number, from 1. */
    int recordAttempt(String workerId) throws IOException {
        int attempt = store.list(layout.attempts()).size() + 1;
        ObjectNode o = JSON.createObjectNode().put("attempt", attempt).put("workerId", workerId)
                .put("startedAt", Instant.now().toString());
        store.putBytes(layout.attempts().resolve(String.format("attempt-%04d.json", attempt)), JSON.writeValueAsBytes(o));
        return attempt;
    }

    /** The complete resume state with the highest step; unreadable manifests are skipped with a warning. */
    Optional<ResumeState> latestResume() throws IOException {
        List<ResumeState> states = new ArrayList<>();
        for (ObjectUri uri : store.list(layout.resumeRoot())) {
            if (!uri.key().endsWith("/" + MANIFEST)) {
                continue;
            }
            try {
                states.add(JSON.treeToValue(readJson(uri), ResumeState.class));
            } catch (IOException | IllegalArgumentException e) {
                LOG.warn("ignoring unreadable resume manifest {}: {}", uri, e.getMessage());
            }
        }
        return states.stream().max(Comparator.comparingLong(ResumeState::step));
    }

    /** Downloads a resume state into {@code runDir} as the trainer left it: {@code checkpoints/<name>/}, metrics. */
    void restore(ResumeState state, Path runDir) throws IOException {
        Path dir = runDir.resolve("checkpoints").resolve(state.checkpoint());
        for (Map.Entry<String, StoredObject> f : state.files().entrySet()) {
            store.get(ObjectUri.parse(f.getValue().uri()), dir.resolve(f.getKey()), f.getValue().sha256());
        }
        if (state.metrics() != null) {
            store.get(ObjectUri.parse(state.metrics().uri()), runDir.resolve(METRICS), state.metrics().sha256());
        }
    }

    /** Uploads the checkpoint's published files to {@code checkpoints/<name>/}. */
    Map<String, StoredObject> uploadCheckpoint(Path dir) throws IOException {
        ObjectUri prefix = layout.checkpoint(dir.getFileName().toString());
        Map<String, StoredObject> out = new LinkedHashMap<>();
        for (String name : PUBLISHED_FILES) {
            out.put(name, store.put(prefix.resolve(name), dir.resolve(name)));
        }
        return out;
    }

    /**
     * Uploads the whole checkpoint folder and the metrics as the run's resume state, the manifest last, then
     * deletes older resume states.
     */
    ResumeState uploadResume(Path dir, long step, Path metrics, Map<String, StoredObject> adapter,
            List<String> checkpoints, String workerId) throws IOException {
        String name = dir.getFileName().toString();
        ObjectUri prefix = layout.resume(name);
        Map<String, StoredObject> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path f : list.filter(Files::isRegularFile).sorted().toList()) {
                files.put(f.getFileName().toString(), store.put(prefix.resolve(f.getFileName().toString()), f));
            }
        }
        StoredObject metricsObject = Files.isRegularFile(metrics) ? store.put(prefix.resolve(METRICS), metrics) : null;
        ResumeState state = new ResumeState(name, step, files, metricsObject, adapter, checkpoints, workerId,
                Instant.now().toString());
        store.putBytes(prefix.resolve(MANIFEST), JSON.writeValueAsBytes(state));
        TreeSet<String> older = new TreeSet<>();
        for (ObjectUri uri : store.list(layout.resumeRoot())) {
            String folder = uri.key().substring(layout.resumeRoot().key().length()).split("/", 2)[0];
            if (!folder.equals(name)) {
                older.add(folder);
            }
        }
        for (String folder : older) {
            store.delete(layout.resume(folder));
        }
        return state;
    }

    /** The finished run's metrics.jsonl and report.html, where they exist. */
    void uploadReport(Path runDir) throws IOException {
        if (Files.isRegularFile(runDir.resolve(METRICS))) {
            store.put(layout.metrics(), runDir.resolve(METRICS));
        }
        if (Files.isRegularFile(runDir.resolve("report.html"))) {
            store.put(layout.report(), runDir.resolve("report.html"));
        }
    }

    private JsonNode readJson(ObjectUri uri) throws IOException {
        try (InputStream in = store.open(uri)) {
            return JSON.readTree(in);
        } catch (JsonProcessingException e) {
            throw new IOException(uri + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
