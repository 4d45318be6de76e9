package dev.tuneloop.trainer.job;

import static dev.tuneloop.trainer.Fixtures.BUCKET;
import static dev.tuneloop.trainer.Fixtures.EVAL_URI;
import static dev.tuneloop.trainer.Fixtures.TRAIN_URI;
import static dev.tuneloop.trainer.Fixtures.request;
import static dev.tuneloop.trainer.Fixtures.tinyRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.messaging.TransientFailure;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.Sha256;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import dev.tuneloop.trainer.Fixtures;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training job without Kafka: a real S3 server, the tiny model, a dozen SQuAD questions. */
class TrainingJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StoragePolicy POLICY = StoragePolicy.of(BUCKET, "datasets/", "runs/");
    private static S3ProxyServer s3;
    private static ObjectStore store;
    private static String trainSha;

    @TempDir
    Path work;

    private final List<EventEnvelope<?>> events = Collections.synchronizedList(new ArrayList<>());
    private final CancelRequests cancels = new CancelRequests();

    @BeforeAll
    static void startStore() throws Exception {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        trainSha = store.putBytes(ObjectUri.parse(TRAIN_URI), Fixtures.squadLines(0, 12)).sha256();
        store.putBytes(ObjectUri.parse(EVAL_URI), Fixtures.squadLines(100, 6));
    }

    @AfterAll
    static void stopStore() {
        store.close();
        s3.close();
    }

    private TrainingJob job(String workerId, ObjectStore objects, Consumer<EventEnvelope<?>> sink) throws Exception {
        TrainingJob.Settings settings = new TrainingJob.Settings(work.resolve(workerId), workerId, Fixtures.MODEL_ID,
                Fixtures.MODEL_REVISION, Fixtures.tinyModel(), Device.cpu(), Duration.ZERO, "test");
        return new TrainingJob(settings, objects, POLICY, cancels, sink);
    }

    private TrainingJob job(String workerId) throws Exception {
        return job(workerId, store, events::add);
    }

    private <P extends EventPayload> List<P> payloads(Class<P> type) {
        synchronized (events) {
            return events.stream().map(EventEnvelope::payload).filter(type::isInstance).map(type::cast).toList();
        }
    }

    private static JsonNode json(String uri) throws Exception {
        try (InputStream in = store.open(ObjectUri.parse(uri))) {
            return JSON.readTree(in);
        }
    }

    private static String sha256Of(String uri) throws Exception {
        try (InputStream in = store.open(ObjectUri.parse(uri))) {
            return Sha256.of(in);
        }
    }

    @Test
    void trainsPublishesVerifiedCheckpointsWithLineageAndEndsOnce() throws Exception {
        String run = "run-complete";
        job("w1").run(request(run, tinyRun(), TRAIN_URI, null), () -> false);

        assertEquals(List.of(new TrainingStarted("w1", 1, 0)), payloads(TrainingStarted.class));
        List<TrainingProgressed> progress = payloads(TrainingProgressed.class);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), progress.stream().map(TrainingProgressed::step).toList());
        assertEquals(List.of(1, 1, 1, 2, 2, 2), progress.stream().map(TrainingProgressed::epoch).toList());
        assertTrue(progress.stream().allMatch(p -> Double.isFinite(p.loss()) && p.loss() > 0), progress.toString());

        List<CheckpointSaved> saved = payloads(CheckpointSaved.class);
        assertEquals(List.of("epoch-0001", "epoch-0002"), saved.stream().map(CheckpointSaved::checkpoint).toList());
        assertEquals(List.of(3L, 6L), saved.stream().map(CheckpointSaved::step).toList());
        assertEquals(List.of(1, 2), saved.stream().map(CheckpointSaved::epoch).toList());
        for (CheckpointSaved c : saved) {
            assertEquals("s3://tuneloop/runs/run-complete/checkpoints/" + c.checkpoint() + "/", c.uriPrefix());
            assertEquals(3, c.files().size(), c.files().toString());
            for (StoredObject o : c.files().values()) {
                assertEquals(o.sha256(), sha256Of(o.uri()), "stored bytes of " + o.uri());
            }
            assertEquals(4, c.adapterConfig().path("r").asInt());
            assertEquals(json(c.files().get("adapter_config.json").uri()), c.adapterConfig());
            JsonNode trained = json(c.files().get("tuneloop_config.json").uri());
            assertEquals(EVAL_URI, trained.path("eval").asText(), "the eval worker finds the run's eval set here");
            assertEquals(4, trained.path("eval_limit").asInt());
        }
        assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))), payloads(RunCompleted.class));
        for (EventEnvelope<?> e : events) {
            assertEquals(run, e.header().runId());
            assertEquals(Fixtures.MODEL_ID, e.header().lineage().baseModelId());
            assertEquals(Fixtures.MODEL_REVISION, e.header().lineage().baseModelRevision());
            assertEquals(trainSha, e.header().lineage().datasetSha256(), e.header().type());
        }
        RunLayout layout = RunLayout.of(BUCKET, run);
        assertEquals("completed", json(layout.outcome().toString()).path("outcome").asText());
        assertEquals(List.of("epoch-0002"), store.list(layout.resumeRoot()).stream()
                .map(u -> u.key().split("/")[3]).distinct().toList(), "only the latest resume state is kept");
        assertTrue(store.exists(layout.metrics()));

        events.clear();
        job("w2").run(request(run, tinyRun(), TRAIN_URI, null), () -> false);
        assertEquals(List.of(), events, "a redelivered request of an ended run is not trained again");
    }

    @Test
    void aRunLeftByADeadWorkerResumesFromItsLastResumeStateToTheSameAdapter() throws Exception {
        job("w1").run(request("run-straight", tinyRun(), TRAIN_URI, null), () -> false);
        String straight = payloads(CheckpointSaved.class).get(1).files().get("adapter_model.safetensors").sha256();
        events.clear();

        // The first worker is stopped right after publishing its first checkpoint, as if it had died then.
        EventEnvelope<TrainingRequested> request = request("run-resumed", tinyRun(), TRAIN_URI, null);
        List<EventEnvelope<?>> first = new ArrayList<>();
        job("w1", store, first::add).run(request, () -> first.stream()
                .anyMatch(e -> e.payload() instanceof CheckpointSaved));
        assertEquals(List.of("TrainingStarted", "TrainingProgressed", "TrainingProgressed", "TrainingProgressed",
                "CheckpointSaved"), first.stream().map(e -> e.header().type()).toList(), "no outcome on a hand-off");

        job("w2").run(request, () -> false);
        assertEquals(List.of(new TrainingStarted("w2", 2, 3)), payloads(TrainingStarted.class));
        assertEquals(List.of(4L, 5L, 6L), payloads(TrainingProgressed.class).stream()
                .map(TrainingProgressed::step).toList());
        List<CheckpointSaved> saved = payloads(CheckpointSaved.class);
        assertEquals(List.of("epoch-0001", "epoch-0002"), saved.stream().map(CheckpointSaved::checkpoint).toList(),
                "the checkpoint resumed from is announced again (it may not have been before the crash)");
        assertEquals(first.get(4).payload(), saved.get(0));
        assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))), payloads(RunCompleted.class));
        assertEquals(straight, saved.get(1).files().get("adapter_model.safetensors").sha256(),
                "resuming from the uploaded state must give the uninterrupted run's adapter, bit for bit");
    }

    @Test
    void aResumedRunFromAnInitAdapterContinuesFromItsResumeStateWithoutTheAdapter() throws Exception {
        String prefix = "s3://tuneloop/runs/promoted/checkpoints/epoch-0002/";
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            store.put(ObjectUri.parse(prefix + f), Fixtures.goldenAdapter().resolve(f));
        }
        EventEnvelope<TrainingRequested> request = request("run-init-resumed", tinyRun(), TRAIN_URI, null, prefix);
        List<EventEnvelope<?>> first = new ArrayList<>();
        job("w1", store, first::add).run(request, () -> first.stream()
                .anyMatch(e -> e.payload() instanceof CheckpointSaved));
        // the adapter is gone (a deleted run, say): the resume state holds the trained weights, nothing else is read
        store.delete(ObjectUri.parse(prefix));

        job("w2").run(request, () -> false);
        assertEquals(List.of(new TrainingStarted("w2", 2, 3)), payloads(TrainingStarted.class));
        assertEquals(List.of(new RunCompleted(6, List.of("epoch-0001", "epoch-0002"))), payloads(RunCompleted.class));
        CheckpointSaved last = payloads(CheckpointSaved.class).get(1);
        assertEquals(7, last.adapterConfig().path("target_modules").size(),
                "still the init adapter's settings after the resume: " + last.adapterConfig());
        assertEquals(7, json(last.files().get("tuneloop_config.json").uri()).path("target_modules").size());
    }

    @Test
    void aCancelRequestStopsTheRunAtTheNextStep() throws Exception {
        String run = "run-cancelled";
        job("w1", store, e -> {
            events.add(e);
            if (e.payload() instanceof TrainingProgressed p && p.step() == 2) {
                cancels.request(run, "superseded by run-x");
            }
        }).run(request(run, tinyRun(), TRAIN_URI, null), () -> false);
        assertEquals(List.of(new RunCancelled("superseded by run-x", 2)), payloads(RunCancelled.class));
        assertEquals(List.of(), payloads(RunCompleted.class));
        assertEquals("cancelled", json(RunLayout.of(BUCKET, run).outcome().toString()).path("outcome").asText());

        events.clear();
        String queued = "run-cancelled-while-queued";
        cancels.request(queued, "not needed");
        job("w1").run(request(queued, tinyRun(), TRAIN_URI, null), () -> false);
        assertEquals(List.of(new RunCancelled("not needed", 0)), events.stream().map(EventEnvelope::payload).toList());
    }

    private RunFailed failure(EventEnvelope<TrainingRequested> request) throws Exception {
        events.clear();
        job("w1").run(request, () -> false);
        assertEquals(1, events.size(), events.toString());
        return assertInstanceOf(RunFailed.class, events.get(0).payload());
    }

    @Test
    void badRequestsFailTheirRunNamingStageAndCause() throws Exception {
        HyperParameters hp = tinyRun();
        RunFailed model = failure(EventEnvelope.create("run-f1", request("x", hp, TRAIN_URI, null).header().lineage(),
                new TrainingRequested("Qwen/Qwen2.5-7B", "main", TRAIN_URI, EVAL_URI, hp, null),
                Instant.now()));
        assertEquals("model", model.stage());
        assertTrue(model.reason().contains("Qwen/Qwen2.5-7B@main"), model.reason());

        RunFailed outside = failure(request("run-f2", hp, "s3://tuneloop/private/secrets.jsonl", null));
        assertEquals("download", outside.stage());
        assertEquals("trainDataUri: location 's3://tuneloop/private/secrets.jsonl' is not allowed: the key must start"
                + " with one of [datasets/, runs/]", outside.reason());

        // an https URL that did not come through the orchestrator's check: refused before anything is fetched
        RunFailed https = failure(request("run-f2b", hp, "https://169.254.169.254/latest/meta-data/train.jsonl",
                null));
        assertEquals("download", https.stage());
        assertEquals("trainDataUri: location 'https://169.254.169.254/latest/meta-data/train.jsonl' is not allowed:"
                + " host '169.254.169.254' is not allowed: no https host is (the allow-list"
                + " tuneloop.storage.allowed-https-hosts is empty)", https.reason());

        RunFailed otherBucket = failure(request("run-f3", hp, "s3://elsewhere/datasets/a.jsonl", null));
        assertTrue(otherBucket.reason().contains("the bucket must be 'tuneloop'"), otherBucket.reason());

        RunFailed missing = failure(request("run-f4", hp, "s3://tuneloop/datasets/nope.jsonl", null));
        assertEquals("download", missing.stage());
        assertTrue(missing.reason().contains("datasets/nope.jsonl"), missing.reason());

        RunFailed changed = failure(request("run-f5", hp, TRAIN_URI, "0".repeat(64)));
        assertEquals("download", changed.stage());
        assertTrue(changed.reason().contains(trainSha), changed.reason());

        HyperParameters chat = new HyperParameters(1, 1e-3, 0, 0, 1, 4, 1, 4, 8, 0, List.of("q_proj"), 160, 1, 0, 4,
                "chat", 7);
        RunFailed prompt = failure(request("run-f6", chat, TRAIN_URI, null));
        assertEquals("request", prompt.stage());
        assertTrue(prompt.reason().contains("'chat'"), prompt.reason());
    }

    @Test
    void aBadInitAdapterFailsItsRunInTheInitAdapterStageNamingUriAndTensor() throws Exception {
        HyperParameters hp = tinyRun();
        RunFailed outside = failure(request("run-i1", hp, TRAIN_URI, null, "s3://tuneloop/private/adapter/"));
        assertEquals("init-adapter", outside.stage());
        assertTrue(outside.reason().contains("s3://tuneloop/private/adapter/") && outside.reason().contains(
                "not allowed"), outside.reason());

        // PEFT files that do not fit: adapter_config.json names q_proj and v_proj, the weights hold all seven
        String prefix = "s3://tuneloop/runs/other/checkpoints/epoch-0001/";
        ObjectNode config = (ObjectNode) JSON.readTree(Fixtures.goldenAdapter().resolve("adapter_config.json")
                .toFile());
        config.putArray("target_modules").add("q_proj").add("v_proj");
        store.putBytes(ObjectUri.parse(prefix + "adapter_config.json"), JSON.writeValueAsBytes(config));
        store.put(ObjectUri.parse(prefix + "adapter_model.safetensors"),
                Fixtures.goldenAdapter().resolve("adapter_model.safetensors"));
        events.clear();
        job("w1").run(request("run-i2", hp, TRAIN_URI, null, prefix), () -> false);
        assertEquals(List.of("TrainingStarted", "RunFailed"), events.stream().map(e -> e.header().type()).toList(),
                "the trainer checks the fit after the model loaded; no step, no checkpoint");
        RunFailed misfit = payloads(RunFailed.class).get(0);
        assertEquals("init-adapter", misfit.stage());
        assertTrue(misfit.reason().startsWith("initAdapter " + prefix + ": ") && misfit.reason().contains(
                "adapter tensor base_model.model.model.layers.0.mlp.down_proj.lora_A.weight does not fit the base"
                        + " model"), misfit.reason());
    }

    @Test
    void anUnreachableStoreIsRetriedLaterNotAFailedRun() throws Exception {
        StorageSettings down = new StorageSettings("http://127.0.0.1:1", "k", "secret", null, BUCKET);
        try (ObjectStore unreachable = new ObjectStore(down, new RetryPolicy(1, Duration.ZERO, Duration.ZERO))) {
            TrainingJob job = job("w1", unreachable, events::add);
            Exception e = assertThrows(Exception.class,
                    () -> job.run(request("run-offline", tinyRun(), TRAIN_URI, null), () -> false));
            assertTrue(TransientFailure.in(e), e.toString());
        }
        assertFalse(events.stream().anyMatch(e -> e.payload() instanceof RunFailed), events.toString());
    }
}
