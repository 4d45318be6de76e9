package dev.tuneloop.evaluator.job;

import static dev.tuneloop.evaluator.Fixtures.ALL_FILES;
import static dev.tuneloop.evaluator.Fixtures.BUCKET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.evaluator.Fixtures;
import dev.tuneloop.evaluator.job.CheckpointEvaluation.Outcome;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StoragePolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An eval set the reader refuses fails the checkpoint's run ({@code RunFailed}, stage {@code evaluate}) with a reason
 * naming the checkpoint, the eval set's {@code s3://} URI and the problem; no evaluation is published and the
 * downloaded files are removed.
 */
class BadInputTest {
    private static final StoragePolicy POLICY = StoragePolicy.of(BUCKET, "datasets/", "runs/");
    private static S3ProxyServer s3;
    private static ObjectStore store;
    private static QaModel base;

    @TempDir
    Path work;

    private final List<EventEnvelope<?>> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        base = QaModel.open(Fixtures.tinyModel(), Device.cpu());
    }

    @AfterAll
    static void stop() {
        base.close();
        store.close();
        s3.close();
    }

    @Test
    void aBadEvalSetFailsTheRunNamingItsUriAndTheProblem(@TempDir Path tmp) throws Exception {
        String[][] cases = {
            {"malformed.jsonl", "{\"context\": \"c\", \"question\": \n", "[1]: malformed JSON"},
            {"empty.jsonl", "", "is empty"},
            {"no-answers.jsonl", "{\"context\": \"c\", \"question\": \"Q?\", \"answers\": []}\n", "no answers"},
        };
        int n = 0;
        for (String[] c : cases) {
            String uri = "s3://tuneloop/datasets/bad-eval/" + c[0];
            store.putBytes(ObjectUri.parse(uri), c[1].getBytes(StandardCharsets.UTF_8));
            Path adapter = Fixtures.noiseAdapter(Files.createDirectories(tmp.resolve("adapter-" + n)), 3, uri, 0);
            String run = "run-bad-eval-" + n++;
            EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, run, "epoch-0001", adapter, ALL_FILES);
            events.clear();
            CheckpointEvaluation evaluation = new CheckpointEvaluation(new CheckpointEvaluation.Settings(work,
                    Fixtures.MODEL_ID, 0, "test"), base, store, POLICY, events::add);
            assertEquals(Outcome.FAILED, evaluation.evaluate(saved, () -> false));
            assertEquals(1, events.size(), events.toString());
            RunFailed failed = assertInstanceOf(RunFailed.class, events.get(0).payload());
            assertEquals("evaluate", failed.stage());
            assertTrue(failed.reason().startsWith("checkpoint epoch-0001: " + uri), failed.reason());
            assertTrue(failed.reason().contains(c[2]), failed.reason());
            try (Stream<Path> left = Files.walk(work)) {
                assertEquals(List.of(), left.filter(Files::isRegularFile).toList(), "downloaded files are removed");
            }
        }
    }
}
