package dev.tuneloop.orchestrator;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.TrainingRequested;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Events as a worker, the evaluator or the orchestrator would produce them, for tests. */
public final class Events {
    public static final String EVAL_SET_A = "a".repeat(64);
    public static final String EVAL_SET_B = "b".repeat(64);
    public static final Lineage LINEAGE = Lineage.unknown("test");
    public static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

    private Events() {}

    /** A {@code POST /runs} body; format it with a run id. */
    public static final String RUN_BODY = """
            {"runId": "%s", "modelId": "Qwen/Qwen2.5-0.5B-Instruct",
             "trainDataUri": "s3://tuneloop/datasets/squad/train.jsonl",
             "evalDataUri": "s3://tuneloop/datasets/squad/dev.jsonl",
             "hyperParameters": {"epochs": 2, "lr": 0.0003, "targetModules": ["q_proj", "v_proj"]}}""";

    /** MinIO's Kafka-target JSON for one object event; {@code key} as MinIO writes it in the record (URL-encoded). */
    public static byte[] notification(String eventName, String bucket, String encodedKey, String decodedKey,
            String eTag) {
        String etag = eTag == null ? "" : ",\"eTag\":\"" + eTag + "\"";
        return ("{\"EventName\":\"" + eventName + "\",\"Key\":\"" + bucket + "/" + decodedKey + "\","
                + "\"Records\":[{\"eventVersion\":\"2.0\",\"eventSource\":\"minio:s3\","
                + "\"eventTime\":\"2026-03-01T12:00:00.000Z\",\"eventName\":\"" + eventName + "\","
                + "\"s3\":{\"bucket\":{\"name\":\"" + bucket + "\"},\"object\":{\"key\":\"" + encodedKey
                + "\",\"size\":1234" + etag + ",\"sequencer\":\"1829A3F2C1D0E8A4\"}}}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    public static <P extends EventPayload> EventEnvelope<P> event(String runId, P payload, Instant at) {
        return EventEnvelope.create(runId, LINEAGE, payload, at);
    }

    public static <P extends EventPayload> EventEnvelope<P> event(String runId, P payload) {
        return event(runId, payload, T0);
    }

    public static HyperParameters hyperParameters(int epochs) {
        return new HyperParameters(epochs, 2.0e-4, 0.03, 0.0, 1.0, 4, 8, 8, 16, 0.05, List.of("q_proj", "v_proj"),
                512, 1, 0, 200, "chat", 42L);
    }

    public static TrainingRequested requested() {
        return new TrainingRequested("Qwen/Qwen2.5-0.5B-Instruct", "main", "s3://tuneloop/datasets/squad/train.jsonl",
                "s3://tuneloop/datasets/squad/dev.jsonl", hyperParameters(3), null);
    }

    public static String prefix(String runId, String checkpoint) {
        return "s3://tuneloop/runs/" + runId + "/checkpoints/" + checkpoint + "/";
    }

    public static Map<String, StoredObject> files(String prefix) {
        return Map.of(
                AdapterFiles.CONFIG, new StoredObject(prefix + AdapterFiles.CONFIG, "c".repeat(64), 731),
                AdapterFiles.WEIGHTS, new StoredObject(prefix + AdapterFiles.WEIGHTS, "d".repeat(64), 4096));
    }

    public static CheckpointSaved saved(String runId, String checkpoint, int epoch, long step) {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.put("peft_type", "LORA");
        config.put("r", 8);
        String prefix = prefix(runId, checkpoint);
        return new CheckpointSaved(checkpoint, epoch, step, prefix, files(prefix), config);
    }

    public static CheckpointEvaluated evaluated(String checkpoint, double f1, String evalSet) {
        return new CheckpointEvaluated(checkpoint, Math.max(0, f1 - 10), f1, evalSet, 200);
    }

    public static AdapterPromoted promoted(String runId, String checkpoint, long generation, Double f1,
            String evalSet, boolean pinned) {
        return new AdapterPromoted("qwen-squad", generation, checkpoint, files(prefix(runId, checkpoint)), f1,
                evalSet, pinned, T0.plusSeconds(generation));
    }
}
