package dev.tuneloop.evaluator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.train.Evaluator;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.TrainConfig;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The eval worker's test world: the tiny model, a noise adapter that answers in words, a SQuAD eval set rigged so
 * that the adapter scores above zero, and checkpoints uploaded to S3 with their {@code CheckpointSaved} events.
 */
public final class Fixtures {
    public static final String MODEL_ID = "tuneloop/tiny-qwen2-random";
    public static final String BUCKET = "tuneloop";
    public static final String EVAL_URI = "s3://tuneloop/datasets/squad-eval-rigged.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
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
            tinyModel = TinyModel.create(dir.resolve("model"), shared("models/qwen2.5-0.5b-instruct"), 64, 2, 5);
        }
        return tinyModel;
    }

    /**
     * A PEFT adapter with random A and B on every projection (the random tiny model alone answers blank; this noise
     * makes it say words) and a tuneloop_config.json naming {@code evalUri} and {@code evalLimit}.
     */
    public static Path noiseAdapter(Path dir, long seed, String evalUri, int evalLimit) throws IOException {
        try (Qwen2ForCausalLM lm = Qwen2Weights.load(tinyModel(), Device.cpu())) {
            LoraConfig config = LoraConfig.of(8, 16, 0.0, LoraConfig.ALL_MODULES);
            NDManager m = lm.manager();
            m.getEngine().setRandomSeed((int) seed);
            lm.projections().forEach((name, p) -> p.attachLora(
                    m.randomNormal(0, 1f, new Shape(8, p.inFeatures()), DataType.FLOAT32),
                    m.randomNormal(0, 1f, new Shape(p.outFeatures(), 8), DataType.FLOAT32),
                    (float) config.scalingFor(name), 0f, false));
            LoraAdapter.save(lm, config, dir);
        }
        TrainConfig.builder(MODEL_ID, "s3://tuneloop/datasets/train.jsonl", evalUri).evalLimit(evalLimit)
                .evalMaxNewTokens(6).evalBatchSize(4).maxSeqLen(256).build()
                .write(dir.resolve(ServingPrompt.CONFIG_FILE));
        return dir;
    }

    /** {@code count} SQuAD questions from the 12-article dev split, starting at line {@code from}. */
    public static List<String> squadLines(int from, int count) throws IOException {
        return Files.readAllLines(shared("data/squad-v1.1/dev-12-articles.jsonl")).subList(from, from + count);
    }

    public static List<SquadExample> examples(List<String> lines) throws IOException {
        byte[] bytes = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        return SquadReader.read(new ByteArrayInputStream(bytes), "eval.jsonl", OnBadRecord.FAIL).examples();
    }

    /** What {@link Evaluator} computes in this process for the adapter on the sample of {@code limit}. */
    public static Evaluator.Outcome inProcess(Path adapter, List<SquadExample> all, int limit) throws IOException {
        TrainConfig trained = TrainConfig.read(adapter.resolve(ServingPrompt.CONFIG_FILE));
        ServingPrompt prompt = ServingPrompt.forAdapter(adapter);
        try (QaModel qa = QaModel.open(tinyModel(), Device.cpu())) {
            qa.useAdapter(adapter);
            return Evaluator.evaluate(qa.answerer(prompt.template(), prompt.maxSeqLen(), trained.evalMaxNewTokens()),
                    Evaluator.sample(all, limit), trained.evalBatchSize(), done -> { });
        }
    }

    /**
     * The lines with the adapter's own answer added as a gold answer to the first question and a half-right one to
     * the second, so that exact match and F1 are above zero and differ.
     */
    public static List<String> rigged(List<String> lines, Map<String, String> predictions) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            ObjectNode record = (ObjectNode) JSON.readTree(line);
            String predicted = predictions.get(record.get("id").asText());
            if (out.size() < 2) {
                assertFalse(predicted.isBlank(), "blank answer for " + record.get("id") + ": " + predictions);
                String gold = out.isEmpty() ? predicted : predicted.strip().split("\\s+")[0] + " and more words";
                ((ArrayNode) record.get("answers")).addObject().put("text", gold).put("answer_start", -1);
            }
            out.add(JSON.writeValueAsString(record));
        }
        return out;
    }

    public static void upload(ObjectStore store, String uri, List<String> lines) throws IOException {
        store.putBytes(ObjectUri.parse(uri), (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads the adapter folder's files as checkpoint {@code name} of {@code runId}; its CheckpointSaved event. */
    public static EventEnvelope<CheckpointSaved> checkpoint(ObjectStore store, String runId, String name,
            Path adapter, List<String> files) throws IOException {
        String prefix = "s3://" + BUCKET + "/runs/" + runId + "/checkpoints/" + name + "/";
        Map<String, StoredObject> stored = new LinkedHashMap<>();
        for (String f : files) {
            stored.put(f, store.put(ObjectUri.parse(prefix + f), adapter.resolve(f)));
        }
        return EventEnvelope.create(runId, new Lineage(null, MODEL_ID, "test", "test"),
                new CheckpointSaved(name, 1, 3, prefix, stored, JSON.readTree(adapter.resolve("adapter_config.json")
                        .toFile())), Instant.now());
    }

    public static final List<String> ALL_FILES =
            List.of("adapter_config.json", "adapter_model.safetensors", ServingPrompt.CONFIG_FILE);
}
