package dev.tuneloop.evaluator.job;

import static dev.tuneloop.evaluator.Fixtures.ALL_FILES;
import static dev.tuneloop.evaluator.Fixtures.BUCKET;
import static dev.tuneloop.evaluator.Fixtures.EVAL_URI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.evaluator.Fixtures;
import dev.tuneloop.evaluator.job.CheckpointEvaluation.Outcome;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.train.Evaluator;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StoragePolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint evaluation without Kafka: a real S3 server, the tiny model, a rigged SQuAD eval set. */
class CheckpointEvaluationTest {
    private static final StoragePolicy POLICY = StoragePolicy.of(BUCKET, "datasets/", "runs/");
    private static S3ProxyServer s3;
    private static ObjectStore store;
    private static QaModel base;
    private static Path adapter;
    private static List<SquadExample> rigged;
    private static Evaluator.Outcome expected;

    @TempDir
    Path work;

    private final List<EventEnvelope<?>> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        adapter = Fixtures.noiseAdapter(Files.createDirectories(tmp.resolve("adapter")), 11, EVAL_URI, 0);
        List<String> lines = Fixtures.squadLines(100, 5);
        Map<String, String> predictions = Fixtures.inProcess(adapter, Fixtures.examples(lines), 0).predictions();
        List<String> riggedLines = Fixtures.rigged(lines, predictions);
        Fixtures.upload(store, EVAL_URI, riggedLines);
        rigged = Fixtures.examples(riggedLines);
        expected = Fixtures.inProcess(adapter, rigged, 0);
        base = QaModel.open(Fixtures.tinyModel(), Device.cpu());
    }

    @AfterAll
    static void stop() {
        base.close();
        store.close();
        s3.close();
    }

    private CheckpointEvaluation evaluation(int maxEvalLimit) {
        return new CheckpointEvaluation(new CheckpointEvaluation.Settings(work, Fixtures.MODEL_ID, maxEvalLimit,
                "test"), base, store, POLICY, events::add);
    }

    private <P> List<P> payloads(Class<P> type) {
        synchronized (events) {
            return events.stream().map(EventEnvelope::payload).filter(type::isInstance).map(type::cast).toList();
        }
    }

    @Test
    void scoresACheckpointAsTheEvaluatorDoesInProcess() throws Exception {
        EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, "run-e1", "epoch-0001", adapter, ALL_FILES);
        assertEquals(Outcome.EVALUATED, evaluation(0).evaluate(saved, () -> false));

        CheckpointEvaluated got = payloads(CheckpointEvaluated.class).get(0);
        assertEquals(new CheckpointEvaluated("epoch-0001", expected.result().exactMatch(), expected.result().f1(),
                Evaluator.evalSetId(rigged), 5), got);
        assertTrue(got.exactMatch() >= 20 && got.f1() > got.exactMatch(), got.toString());
        EventEnvelope<?> event = events.get(0);
        assertEquals("run-e1", event.header().runId());
        assertEquals(Fixtures.MODEL_ID, event.header().lineage().baseModelId());
        assertEquals("test", event.header().lineage().tuneloopVersion());
        try (var left = Files.walk(work)) {
            assertEquals(List.of(), left.filter(Files::isRegularFile).toList(), "downloaded files are removed");
        }
    }

    @Test
    void theWorkersEvalLimitBoundsTheRunsSample() throws Exception {
        EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, "run-e2", "epoch-0001", adapter, ALL_FILES);
        evaluation(3).evaluate(saved, () -> false);
        Evaluator.Outcome three = Fixtures.inProcess(adapter, rigged, 3);
        assertEquals(new CheckpointEvaluated("epoch-0001", three.result().exactMatch(), three.result().f1(),
                Evaluator.evalSetId(Evaluator.sample(rigged, 3)), 3), payloads(CheckpointEvaluated.class).get(0));
        assertEquals(3, CheckpointEvaluation.effectiveLimit(0, 3));
        assertEquals(2, CheckpointEvaluation.effectiveLimit(2, 3));
        assertEquals(7, CheckpointEvaluation.effectiveLimit(7, 0));
    }

    @Test
    void aRepeatedCheckpointIsEvaluatedOnceAndARestartedWorkerGetsTheSameNumbers() throws Exception {
        EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, "run-e3", "epoch-0001", adapter, ALL_FILES);
        CheckpointEvaluation evaluation = evaluation(0);
        assertEquals(Outcome.EVALUATED, evaluation.evaluate(saved, () -> false));
        assertEquals(Outcome.DUPLICATE, evaluation.evaluate(saved, () -> false), "a redelivery");
        EventEnvelope<CheckpointSaved> announcedAgain = EventEnvelope.create("run-e3", saved.header().lineage(),
                saved.payload(), Instant.now());
        assertEquals(Outcome.DUPLICATE, evaluation.evaluate(announcedAgain, () -> false), "a resumed trainer's repeat");
        assertEquals(1, payloads(CheckpointEvaluated.class).size());

        assertEquals(Outcome.EVALUATED, evaluation(0).evaluate(saved, () -> false), "after a restart");
        List<CheckpointEvaluated> both = payloads(CheckpointEvaluated.class);
        assertEquals(both.get(0), both.get(1), "evaluating again is harmless: the same numbers");
    }

    private RunFailed fails(EventEnvelope<CheckpointSaved> saved) throws Exception {
        events.clear();
        assertEquals(Outcome.FAILED, evaluation(0).evaluate(saved, () -> false));
        assertEquals(1, events.size(), events.toString());
        RunFailed failed = assertInstanceOf(RunFailed.class, events.get(0).payload());
        assertEquals("evaluate", failed.stage());
        return failed;
    }

    @Test
    void aCheckpointThatCannotBeEvaluatedFailsItsRunByName() throws Exception {
        EventEnvelope<CheckpointSaved> good = Fixtures.checkpoint(store, "run-e4", "epoch-0001", adapter, ALL_FILES);
        CheckpointSaved p = good.payload();

        Map<String, StoredObject> tampered = new HashMap<>(p.files());
        StoredObject weights = tampered.get("adapter_model.safetensors");
        tampered.put("adapter_model.safetensors", new StoredObject(weights.uri(), "f".repeat(64), weights.size()));
        RunFailed mismatch = fails(EventEnvelope.create("run-e4", good.header().lineage(), new CheckpointSaved(
                p.checkpoint(), 1, 3, p.uriPrefix(), tampered, p.adapterConfig()), Instant.now()));
        assertTrue(mismatch.reason().contains("sha256 mismatch") && mismatch.reason().contains("f".repeat(64)),
                mismatch.reason());

        String outside = "s3://tuneloop/private/";
        Map<String, StoredObject> moved = new HashMap<>();
        p.files().forEach((name, o) -> moved.put(name, new StoredObject(outside + name, o.sha256(), o.size())));
        RunFailed policy = fails(EventEnvelope.create("run-e4", good.header().lineage(), new CheckpointSaved(
                p.checkpoint(), 1, 3, outside, moved, p.adapterConfig()), Instant.now()));
        assertTrue(policy.reason().contains("not allowed"), policy.reason());

        RunFailed otherModel = fails(EventEnvelope.create("run-e4", new Lineage(null, "Qwen/Qwen2.5-7B", "main", "x"),
                p, Instant.now()));
        assertTrue(otherModel.reason().contains("Qwen/Qwen2.5-7B"), otherModel.reason());

        EventEnvelope<CheckpointSaved> plainPeft = Fixtures.checkpoint(store, "run-e5", "epoch-0001", adapter,
                List.of("adapter_config.json", "adapter_model.safetensors"));
        RunFailed noConfig = fails(plainPeft);
        assertTrue(noConfig.reason().contains("tuneloop_config.json"), noConfig.reason());
        assertEquals(List.of(), payloads(CheckpointEvaluated.class));
    }
}
