package dev.tuneloop.trainer.job;

import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.request;
import static dev.tuneloop.trainer.Fixtures.tinyRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.trainer.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad datasets and settings reach the trainer worker as a request: each run fails with one {@code RunFailed} whose
 * stage and reason name the problem (the URI, the line, the limit), and leaves no checkpoint, resume state or
 * attempt behind in the store — only its outcome marker.
 */
class BadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StoragePolicy POLICY = StoragePolicy.of(BUCKET, "datasets/", "runs/");
    private static final String GOOD_LINE = "{\"context\": \"Paris lies on the Seine.\", \"question\": "
            + "\"Which river?\","
            + " \"answers\": [{\"text\": \"the Seine\", \"answer_start\": 13}]}\n";
    private static S3ProxyServer s3;
    private static ObjectStore store;

    @TempDir
    Path work;

    private final List<EventEnvelope<?>> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void startStore() throws Exception {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        store.putBytes(ObjectUri.parse(Fixtures.EVAL_URI), Fixtures.squadLines(100, 6));
    }

    @AfterAll
    static void stopStore() {
        store.close();
        s3.close();
    }

    @Test
    void badDatasetsFailTheRunInStageDataNamingTheUriAndTheProblem() throws Exception {
        byte[] invalidUtf8 = (GOOD_LINE + "{\"context\": \"x\u00e9").getBytes(StandardCharsets.UTF_8);
        invalidUtf8 = Arrays.copyOf(invalidUtf8, invalidUtf8.length - 1); // cut the 2-byte é in half
        Object[][] cases = {
            {"empty.jsonl", new byte[0], "is empty"},
            {"malformed.jsonl", "{\"context\": \"x\", \"question\": \n".getBytes(StandardCharsets.UTF_8),
                "no valid SQuAD questions (jsonl, 1 bad records; first: s3://tuneloop/datasets/bad/malformed.jsonl [1]:"
                    + " malformed JSON"},
            {"missing-fields.jsonl", "{\"question\": \"Q?\"}\n{\"context\": 5, \"question\": \"Q?\", \"answers\": []}\n"
                .getBytes(StandardCharsets.UTF_8), "missing field 'context'"},
            {"answer-not-in-context.jsonl", ("{\"context\": \"abc\", \"question\": \"Q?\", \"answers\": [{\"text\": "
                + "\"xyz\", \"answer_start\": 99}]}\n").getBytes(StandardCharsets.UTF_8), "answer not in context"},
            {"invalid-utf8.jsonl", invalidUtf8, "invalid UTF-8 at byte offset"},
            {"v2.json", ("{\"version\": \"v2.0\", \"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": "
                + "[{\"id\": \"x\", \"question\": \"Q?\", \"answers\": [], \"is_impossible\": true}]}]}]}")
                .getBytes(StandardCharsets.UTF_8), "no answers"},
            {"not-squad.json", "{\"rows\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8), "no valid SQuAD questions"},
        };
        for (Object[] c : cases) {
            String uri = "s3://tuneloop/datasets/bad/" + c[0];
            store.putBytes(ObjectUri.parse(uri), (byte[]) c[1]);
            String runId = "bad-data-" + ((String) c[0]).replace('.', '-');
            RunFailed failed = failure(request(runId, tinyRun(), uri, null));
            assertEquals("data", failed.stage(), failed.reason());
            assertTrue(failed.reason().startsWith(uri), failed.reason());
            assertTrue(failed.reason().contains((String) c[2]), failed.reason());
            assertOnlyTheOutcomeIsLeft(runId);
        }
    }

    @Test
    void settingsTheTrainerRefusesFailInStageRequestBeforeAnyDownload() throws Exception {
        store.putBytes(ObjectUri.parse(Fixtures.TRAIN_URI), Fixtures.squadLines(0, 12));
        // the contract's own checks let these through; the trainer's bounds do not
        HyperParameters hugeEpochs = new HyperParameters(5000, 1e-3, 0, 0, 1, 4, 1, 4, 8, 0, List.of("q_proj"), 160,
                1, 0, 4, "context", 7);
        RunFailed epochs = failure(request("bad-epochs", hugeEpochs, Fixtures.TRAIN_URI, null));
        assertEquals("request", epochs.stage());
        assertTrue(epochs.reason().contains("--epochs 5000 must be in [1, 1000]"), epochs.reason());
        assertOnlyTheOutcomeIsLeft("bad-epochs");

        HyperParameters tooLong = new HyperParameters(1, 1e-3, 0, 0, 1, 4, 1, 4, 8, 0, List.of("q_proj"), 100_000,
                1, 0, 4, "context", 7);
        RunFailed seqLen = failure(request("bad-seq-len", tooLong, Fixtures.TRAIN_URI, null));
        assertEquals("request", seqLen.stage());
        assertTrue(seqLen.reason().contains("--max-seq-len 100000 must be in [16, 32768]"), seqLen.reason());
        assertOnlyTheOutcomeIsLeft("bad-seq-len");

        HyperParameters module = new HyperParameters(1, 1e-3, 0, 0, 1, 4, 1, 4, 8, 0, List.of("lm_head"), 160,
                1, 0, 4, "context", 7);
        RunFailed target = failure(request("bad-module", module, Fixtures.TRAIN_URI, null));
        assertEquals("request", target.stage());
        assertTrue(target.reason().contains("--target-modules [lm_head]"), target.reason());
    }

    @Test
    void maxSeqLenBeyondTheModelsPositionsFailsInStageRequestWithoutAnAttempt() throws Exception {
        store.putBytes(ObjectUri.parse(Fixtures.TRAIN_URI), Fixtures.squadLines(0, 12));
        Path shortModel = Files.createDirectories(work.resolve("short-model"));
        try (Stream<Path> files = Files.list(Fixtures.tinyModel())) {
            for (Path f : files.toList()) {
                Files.copy(f, shortModel.resolve(f.getFileName()));
            }
        }
        ObjectNode config = (ObjectNode) JSON.readTree(shortModel.resolve("config.json").toFile());
        config.put("max_position_embeddings", 128);
        JSON.writeValue(shortModel.resolve("config.json").toFile(), config);
        RunFailed failed = failure(request("bad-positions", tinyRun(), Fixtures.TRAIN_URI, null), shortModel);
        assertEquals("request", failed.stage());
        assertEquals("--max-seq-len 160 is more than the model's max_position_embeddings 128 ("
                + shortModel.resolve("config.json") + ")", failed.reason());
        assertOnlyTheOutcomeIsLeft("bad-positions");
    }

    @Test
    void storagePolicyRefusesTraversalAbsoluteKeysAndOtherBucketsBeforeAnyDownload() throws Exception {
        String[][] cases = {
            {"bad-other-bucket", "s3://other-bucket/datasets/a.jsonl", "the bucket must be 'tuneloop'"},
            {"bad-outside", "s3://tuneloop/secrets/a.jsonl", "the key must start with one of [datasets/, runs/]"},
            {"bad-traversal", "s3://tuneloop/datasets/../secrets/a.jsonl", "'..' segment"},
            {"bad-absolute", "s3://tuneloop//etc/passwd", "must not start with '/'"},
            {"bad-https", "https://example.org/train.jsonl", "invalid S3 URI"},
        };
        for (String[] c : cases) {
            RunFailed failed = failure(request(c[0], tinyRun(), c[1], null));
            assertEquals("request", failed.stage(), failed.reason());
            assertTrue(failed.reason().contains(c[2]), failed.reason());
            assertOnlyTheOutcomeIsLeft(c[0]);
        }
    }

    private RunFailed failure(EventEnvelope<TrainingRequested> request) throws Exception {
        return failure(request, Fixtures.tinyModel());
    }

    private RunFailed failure(EventEnvelope<TrainingRequested> request, Path model) throws Exception {
        events.clear();
        TrainingJob.Settings settings = new TrainingJob.Settings(work.resolve("w1"), "w1", Fixtures.MODEL_ID,
                Fixtures.MODEL_REVISION, model, Device.cpu(), Duration.ZERO, "test");
        new TrainingJob(settings, store, POLICY, new CancelRequests(), events::add).run(request, () -> false);
        assertEquals(1, events.size(), events.toString());
        return assertInstanceOf(RunFailed.class, events.get(0).payload());
    }

    private static void assertOnlyTheOutcomeIsLeft(String runId) throws Exception {
        RunLayout layout = RunLayout.of(BUCKET, runId);
        assertEquals(List.of(layout.outcome()), store.list(layout.root()), "objects left by refused run " + runId);
    }
}
