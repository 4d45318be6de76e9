package dev.tuneloop.trainer.job;

import dev.tuneloop.contracts.StoredObject;
import java.util.List;
import java.util.Map;

/**
 * The manifest of a resume state ({@code runs/<id>/resume/<checkpoint>/manifest.json}), written after every file it
 * lists: a resume folder without it is incomplete and ignored.
 *
 * @param checkpoint the checkpoint folder's name, e.g. {@code step-000400}
 * @param step optimizer steps done at the checkpoint
 * @param files the checkpoint folder's files (adapter, tuneloop_config.json, optimizer moments, trainer_state.json)
 * @param metrics the run's metrics.jsonl up to the checkpoint, or null
 * @param adapter the published checkpoint's objects under {@code runs/<id>/checkpoints/<checkpoint>/}
 * @param checkpoints every checkpoint the run saved up to and including this one, in order
 * @param workerId the worker that saved it
 * @param savedAt ISO-8601 time of saving
 */
public record ResumeState(String checkpoint, long step, Map<String, StoredObject> files, StoredObject metrics,
        Map<String, StoredObject> adapter, List<String> checkpoints, String workerId, String savedAt) {
    public ResumeState {
        if (checkpoint == null || checkpoint.isBlank() || checkpoint.contains("/")) {
            throw new IllegalArgumentException("resume manifest: checkpoint must be a folder name, got " + checkpoint);
        }
        if (step < 1) {
            throw new IllegalArgumentException("resume manifest of " + checkpoint + ": step must be >= 1, got " + step);
        }
        if (files == null || files.isEmpty() || adapter == null || adapter.isEmpty()) {
            throw new IllegalArgumentException("resume manifest of " + checkpoint + ": files and adapter must be listed");
        }
        for (String name : files.keySet()) {
            if (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new IllegalArgumentException("resume manifest of " + checkpoint + ": file name '" + name
                        + "' is not a plain file name");
            }
        }
        files = Map.copyOf(files);
        adapter = Map.copyOf(adapter);
        checkpoints = List.copyOf(checkpoints == null ? List.of() : checkpoints);
    }
}
