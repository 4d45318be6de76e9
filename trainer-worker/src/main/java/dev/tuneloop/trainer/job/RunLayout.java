package dev.tuneloop.trainer.job;

import dev.tuneloop.storage.ObjectUri;

/**
 * Where one run's objects live in the bucket, in one place (docs/storage-layout.md describes the whole bucket):
 * <pre>
 * runs/&lt;run-id&gt;/checkpoints/&lt;name&gt;/   adapter_config.json, adapter_model.safetensors, tuneloop_config.json
 * runs/&lt;run-id&gt;/resume/&lt;name&gt;/        the latest resume state: the checkpoint folder, metrics.jsonl, manifest.json last
 * runs/&lt;run-id&gt;/attempts/attempt-NNNN.json   one per worker that took the run
 * runs/&lt;run-id&gt;/outcome.json              written once the run ended: completed, failed or cancelled
 * runs/&lt;run-id&gt;/metrics.jsonl, report.html  the finished run's training log and report
 * </pre>
 */
public record RunLayout(ObjectUri root) {
    public static final String RUNS_PREFIX = "runs/";

    public static RunLayout of(String bucket, String runId) {
        return new RunLayout(new ObjectUri(bucket, RUNS_PREFIX + runId + "/"));
    }

    public ObjectUri checkpoint(String name) {
        return root.resolve("checkpoints/" + name + "/");
    }

    public ObjectUri resumeRoot() {
        return root.resolve("resume/");
    }

    public ObjectUri resume(String name) {
        return resumeRoot().resolve(name + "/");
    }

    public ObjectUri attempts() {
        return root.resolve("attempts/");
    }

    public ObjectUri outcome() {
        return root.resolve("outcome.json");
    }

    public ObjectUri metrics() {
        return root.resolve("metrics.jsonl");
    }

    public ObjectUri report() {
        return root.resolve("report.html");
    }
}
