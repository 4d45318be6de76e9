package dev.tuneloop.contracts;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** One fixed, fully populated event per type; the golden files under {@code golden/} hold the same events. */
final class SampleEvents {
    static final String RUN_ID = "run-20260301-a1b2";
    static final String DATASET_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    static final String EVAL_SET_ID = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    static final String CONFIG_SHA = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";
    static final String WEIGHTS_SHA = "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c";
    static final Lineage LINEAGE =
            new Lineage(DATASET_SHA, "Qwen/Qwen2.5-0.5B-Instruct", "7ae557604adf67be50417f59c2c2f167def9a775",
                    "0.1.0");
    static final Instant AT = Instant.parse("2026-03-01T12:00:00Z");
    static final String PREFIX = "s3://tuneloop/runs/" + RUN_ID + "/checkpoints/epoch-0002/";

    private SampleEvents() {}

    static HyperParameters hyperParameters() {
        return new HyperParameters(3, 2.0e-4, 0.03, 0.0, 1.0, 4, 8, 8, 16, 0.05,
                List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 512, 1, 0,
                200, "chat", 42L);
    }

    static Map<String, StoredObject> files(String prefix) {
        return Map.of(
                AdapterFiles.CONFIG, new StoredObject(prefix + AdapterFiles.CONFIG, CONFIG_SHA, 731),
                AdapterFiles.WEIGHTS, new StoredObject(prefix + AdapterFiles.WEIGHTS, WEIGHTS_SHA, 35_237_104));
    }

    static ObjectNode adapterConfig() {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.put("peft_type", "LORA");
        config.put("base_model_name_or_path", "Qwen/Qwen2.5-0.5B-Instruct");
        config.put("r", 8);
        config.put("lora_alpha", 16);
        config.put("lora_dropout", 0.05);
        config.putArray("target_modules").add("q_proj").add("v_proj");
        return config;
    }

    static EventEnvelope<?> of(EventType type) {
        EventPayload payload = switch (type) {
            case TRAINING_REQUESTED -> new TrainingRequested("Qwen/Qwen2.5-0.5B-Instruct",
                    "7ae557604adf67be50417f59c2c2f167def9a775", "s3://tuneloop/datasets/squad/train-proxy.jsonl",
                    "s3://tuneloop/datasets/squad/dev-12-articles.jsonl", hyperParameters(), null);
            case TRAINING_STARTED -> new TrainingStarted("trainer-7d9f-x2", 2, 400);
            case TRAINING_PROGRESSED -> new TrainingProgressed(410, 2, 1.2345, 1.5e-4, 812.5);
            case CHECKPOINT_SAVED -> new CheckpointSaved("epoch-0002", 2, 478, PREFIX, files(PREFIX), adapterConfig());
            case CHECKPOINT_EVALUATED -> new CheckpointEvaluated("epoch-0002", 61.5, 74.25, EVAL_SET_ID, 200);
            case ADAPTER_PROMOTED -> new AdapterPromoted("qwen-squad", 7, "epoch-0002", files(PREFIX), 74.25,
                    EVAL_SET_ID, false, Instant.parse("2026-03-01T12:00:05Z"));
            case RUN_COMPLETED -> new RunCompleted(717, List.of("epoch-0001", "epoch-0002", "epoch-0003"));
            case RUN_FAILED -> new RunFailed("train", "loss became NaN at step 233");
            case RUN_CANCELLED -> new RunCancelled("superseded by run-20260301-c3d4", 250);
            case CANCEL_REQUESTED -> new CancelRequested("alice", "superseded by run-20260301-c3d4");
            case RUN_DELETED -> new RunDeleted("alice", 14);
        };
        UUID id = UUID.fromString(String.format("6f1c2a3e-0000-4000-8000-%012d", type.ordinal() + 1));
        return new EventEnvelope<>(new EventHeader(id, type.typeName(), 1, AT, RUN_ID, LINEAGE), payload);
    }
}
