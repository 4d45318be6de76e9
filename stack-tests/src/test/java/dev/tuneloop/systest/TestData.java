package dev.tuneloop.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StorageSettings;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Real SQuAD examples from {@code ../shared} (the first lines of the JSON Lines files) uploaded to the test's bucket,
 * and the small run every system test trains: batch 4, one optimizer step per batch, 256 tokens, 8 eval questions.
 */
final class TestData {
    static final int TRAIN_EXAMPLES = 16;
    static final int EVAL_EXAMPLES = 8;

    private TestData() {}

    /** The first {@code n} lines of a file under {@code ../shared/data/squad-v1.1/}; a missing file fails. */
    static byte[] lines(String file, int n) throws Exception {
        Path path = Path.of(System.getProperty("tuneloop.shared.dir", "../../shared")).resolve("data")
                .resolve("squad-v1.1").resolve(file);
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8).subList(0, n);
        assertEquals(n, lines.size(), path + " has fewer than " + n + " lines");
        return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] train() throws Exception {
        return lines("train-proxy-36-articles.jsonl", TRAIN_EXAMPLES);
    }

    static byte[] eval() throws Exception {
        return lines("dev-12-articles.jsonl", EVAL_EXAMPLES);
    }

    static StoredObject upload(StorageSettings storage, String key, byte[] content) throws Exception {
        try (ObjectStore store = new ObjectStore(storage)) {
            return store.putBytes(store.uri(key), content);
        }
    }

    /** The object's ETag as the S3 server reports it (what MinIO puts in a bucket notification). */
    static String eTag(StorageSettings storage, String key) throws Exception {
        MinioClient client = MinioClient.builder().endpoint(storage.endpoint())
                .credentials(storage.accessKey(), storage.secretKey()).build();
        return client.statObject(StatObjectArgs.builder().bucket(storage.bucket()).object(key).build()).etag()
                .replace("\"", "");
    }

    /** The first eval question, as {@code {"question", "context"}} for {@code /v1/answer}. */
    static ObjectNode firstQuestion() throws Exception {
        JsonNode first = Http.JSON.readTree(new String(eval(), StandardCharsets.UTF_8).lines().findFirst()
                .orElseThrow());
        ObjectNode q = Http.JSON.createObjectNode();
        q.put("question", first.path("question").asText()).put("context", first.path("context").asText());
        return q;
    }

    /**
     * {@code POST /runs} body: {@code epochs} epochs of {@value #TRAIN_EXAMPLES} examples (4 steps each), a checkpoint
     * every {@code saveEverySteps} steps and at the last epoch, {@value #EVAL_EXAMPLES} eval questions, seed 42.
     */
    static ObjectNode runRequest(String runId, String modelId, String revision, String train, String eval,
            int epochs, int saveEverySteps) {
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("runId", runId).put("modelId", modelId).put("modelRevision", revision)
                .put("trainDataUri", train).put("evalDataUri", eval);
        body.putObject("hyperParameters").put("epochs", epochs).put("batchSize", 4).put("gradAccum", 1)
                .put("maxSeqLen", 256).put("evalLimit", EVAL_EXAMPLES).put("saveEveryEpochs", 0)
                .put("saveEverySteps", saveEverySteps).put("promptMode", "context").put("seed", 42);
        return body;
    }
}
