package dev.tuneloop.trainer;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.model.qwen2.TinyModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** Shared read-only data beside the repository (a missing file fails), the tiny model, requests for tiny runs. */
public final class Fixtures {
    public static final String MODEL_ID = "tuneloop/tiny-qwen2-random";
    public static final String MODEL_REVISION = "test";
    public static final String BUCKET = "tuneloop";
    public static final String TRAIN_URI = "s3://tuneloop/datasets/squad-train-12.jsonl";
    public static final String EVAL_URI = "s3://tuneloop/datasets/squad-eval-6.jsonl";
    private static Path tinyModel;

    private Fixtures() {}

    public static Path shared(String relative) {
        String configured = System.getProperty("tuneloop.shared.dir");
        Path p = Path.of(configured != null ? configured : "../../shared").resolve(relative).toAbsolutePath();
        if (!Files.exists(p)) {
            fail("missing shared fixture " + p + " (tests need ../shared/ beside the repository)");
        }
        return p;
    }

    /** A tiny random Qwen2 (hidden 64, 2 layers) with the real tokenizer, made once per test JVM. */
    public static synchronized Path tinyModel() throws IOException {
        if (tinyModel == null) {
            Path dir = Files.createTempDirectory("tuneloop-tiny-");
            tinyModel = TinyModel.create(dir.resolve("model"), shared("models/qwen2.5-0.5b-instruct"), 64, 2, 3);
        }
        return tinyModel;
    }

    /** {@code count} SQuAD questions (JSON Lines) from the 12-article dev split, starting at line {@code from}. */
    public static byte[] squadLines(int from, int count) throws IOException {
        List<String> lines = Files.readAllLines(shared("data/squad-v1.1/dev-12-articles.jsonl"));
        return (String.join("\n", lines.subList(from, from + count)) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Two epochs of three steps (12 examples, batch 4), a checkpoint per epoch. */
    public static HyperParameters tinyRun() {
        return new HyperParameters(2, 5e-3, 0.0, 0.0, 1.0, 4, 1, 4, 8, 0.0, List.of("q_proj", "v_proj"), 160, 1, 0,
                4, "context", 7);
    }

    public static EventEnvelope<TrainingRequested> request(String runId, HyperParameters hp, String trainUri,
            String datasetSha256) {
        return request(runId, hp, trainUri, datasetSha256, null);
    }

    /** A request that starts from the adapter folder {@code initAdapter} ({@code s3://…/}; null = fresh LoRA). */
    public static EventEnvelope<TrainingRequested> request(String runId, HyperParameters hp, String trainUri,
            String datasetSha256, String initAdapter) {
        return EventEnvelope.create(runId, new Lineage(datasetSha256, MODEL_ID, MODEL_REVISION, "test"),
                new TrainingRequested(MODEL_ID, MODEL_REVISION, trainUri, EVAL_URI, hp, initAdapter), Instant.now());
    }

    /**
     * The golden fixture's PEFT adapter (r 4, alpha 8, dropout 0.05, all seven projections, random non-zero A and
     * B), made for a tiny Qwen2 with {@link #tinyModel}'s projection shapes (hidden 64, intermediate 160, 2 layers).
     */
    public static Path goldenAdapter() {
        return shared("fixtures/qwen2-tiny-golden/adapter");
    }
}
