package dev.tuneloop.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MinioNotification;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.stack.ServiceProcess;
import dev.tuneloop.stack.StackService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workflow on real processes: the four services as child JVMs on a real broker and S3 server, the tiny model.
 * One story, in order: a submitted run is trained, every checkpoint evaluated, the best promoted and served; a
 * duplicate {@code CheckpointSaved} is not evaluated again; a MinIO notification delivered twice starts one run; an
 * orchestrator restarted as a new process with an empty folder shows every run and the promotion, and a notification
 * replayed after the restart starts nothing.
 */
class WorkflowIT {
    static final String TRIGGER_PREFIX = "datasets/triggered/";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);

    @TempDir
    Path dir;

    @Test
    void submitTrainEvaluatePromoteServeThenDuplicatesAndAnEmptyOrchestratorRestart() throws Exception {
        long t0 = System.nanoTime();
        try (Fleet fleet = Fleet.start(dir)) {
            Kafka kafka = new Kafka(fleet.infra.kafka());
            String bucket = fleet.infra.storage().bucket();
            StoredObject eval = TestData.upload(fleet.infra.storage(), "datasets/it/eval.jsonl", TestData.eval());
            StoredObject train = TestData.upload(fleet.infra.storage(), "datasets/it/train.jsonl", TestData.train());
            Map<String, String> orchestratorConfig = triggerConfig(bucket, fleet.model.id(), eval.uri());
            fleet.start("orchestrator", StackService.ORCHESTRATOR, orchestratorConfig);
            fleet.start("trainer", StackService.TRAINER, Map.of());
            fleet.start("evaluator", StackService.EVALUATOR, Map.of());
            fleet.start("inference", StackService.INFERENCE, Map.of());
            fleet.awaitReady();
            long ready = System.nanoTime();
            String orchestrator = fleet.url("orchestrator");

            // 1. submit -> checkpoints -> evaluations -> promotion -> served
            String runId = "loop-1";
            Http.post(orchestrator + "/runs", TestData.runRequest(runId, fleet.model.id(), fleet.model.revision(),
                    train.uri(), eval.uri(), 1, 2));
            JsonNode run = awaitEvaluated(fleet, orchestrator, runId, 2);
            assertEquals(List.of("step-000002", "epoch-0001"), names(run), run.toString());
            for (JsonNode c : run.path("checkpoints")) {
                assertEquals(TestData.EVAL_EXAMPLES, c.path("scores").get(0).path("n").asInt(), c.toString());
            }
            JsonNode current = Http.await(Duration.ofMinutes(2), Duration.ofMillis(500), () -> "a promotion",
                    () -> nullIfMissing(Http.get(orchestrator + "/promotions").path("current")));
            assertEquals(runId, current.path("runId").asText(), current.toString());
            assertEquals(run.path("best").path("name").asText(), current.path("checkpoint").asText(),
                    "the run's best checkpoint is promoted: " + current);
            List<Kafka.Timed<CheckpointSaved>> saved = kafka.events(Topics.CHECKPOINT_SAVED, CheckpointSaved.class,
                    runId);
            StoredObject promotedWeights = saved.stream()
                    .filter(s -> s.payload().checkpoint().equals(current.path("checkpoint").asText()))
                    .findFirst().orElseThrow().payload().files().get(AdapterFiles.WEIGHTS);
            JsonNode adapter = Http.await(Duration.ofMinutes(2), Duration.ofMillis(500),
                    () -> "the inference service to serve " + current.path("checkpoint").asText(), () -> {
                        JsonNode a = Http.get(fleet.url("inference") + "/v1/adapter").path("adapter");
                        return a.path("run").asText().equals(runId)
                                && a.path("checkpoint").asText().equals(current.path("checkpoint").asText())
                                ? a : null;
                    });
            assertEquals(promotedWeights.sha256(), adapter.path("files").path(AdapterFiles.WEIGHTS).asText(),
                    "the served weights are the promoted checkpoint's: " + adapter);
            JsonNode answer = Http.post(fleet.url("inference") + "/v1/answer", TestData.firstQuestion());
            assertTrue(answer.path("answer").isTextual(), answer.toString());
            assertEquals(runId, answer.path("adapter").path("run").asText(), answer.toString());
            assertEquals(current.path("checkpoint").asText(), answer.path("adapter").path("checkpoint").asText());
            long looped = System.nanoTime();
            Bench.workflowLatencies(kafka, runId, fleet.get("evaluator").process().log());
            Bench.runTimeline(kafka, fleet.infra.storage(), runId, dir.resolve("bench"));

            // 1b. the same job in one process (./tuneloop train) trains the same adapters, bit for bit
            Map<String, String> single = trainInOneProcess(dir.resolve("one-process"));
            Map<String, String> system = new TreeMap<>();
            saved.forEach(s -> system.put(s.payload().checkpoint(),
                    s.payload().files().get(AdapterFiles.WEIGHTS).sha256()));
            assertEquals(system, single, "adapter_model.safetensors sha256 per checkpoint: the system's run vs"
                    + " ./tuneloop train with the same data, settings and seed");

            // 2. a duplicate CheckpointSaved (same URI, sha256s, eval set; a new event id) is not evaluated twice
            String evaluator = fleet.url("evaluator");
            double duplicatesBefore = Http.metric(evaluator, "tuneloop_evaluator_evaluation_seconds_count",
                    "outcome=\"duplicate\"");
            EventEnvelope<?> first = saved.get(0).event();
            EventEnvelope<CheckpointSaved> again = EventEnvelope.create(runId, first.header().lineage(),
                    saved.get(0).payload(), Instant.now());
            kafka.produce(Topics.CHECKPOINT_SAVED, runId, EventCodec.toBytes(again));
            Http.await(Duration.ofMinutes(1), Duration.ofMillis(300), () -> "the evaluator to see the duplicate",
                    () -> Http.metric(evaluator, "tuneloop_evaluator_evaluation_seconds_count",
                            "outcome=\"duplicate\"") > duplicatesBefore ? true : null);
            assertEquals(2, kafka.events(Topics.CHECKPOINT_EVALUATED, CheckpointEvaluated.class, runId).size(),
                    "one CheckpointEvaluated per checkpoint, none for the duplicate");
            JsonNode afterDuplicate = Http.get(orchestrator + "/runs/" + runId);
            for (JsonNode c : afterDuplicate.path("checkpoints")) {
                assertEquals(1, c.path("scores").size(), "one score per checkpoint: " + c);
            }

            // 3. the same MinIO notification twice starts one run
            String key = TRIGGER_PREFIX + "train.jsonl";
            TestData.upload(fleet.infra.storage(), key, TestData.train());
            byte[] notification = minioNotification(bucket, key, TestData.eTag(fleet.infra.storage(), key),
                    TestData.train().length);
            String derived = MinioNotification.fromBytes(Topics.DATASET_NOTIFICATIONS, notification).records().get(0)
                    .derivedRunId();
            kafka.produce(Topics.DATASET_NOTIFICATIONS, bucket + "/" + key, notification);
            kafka.produce(Topics.DATASET_NOTIFICATIONS, bucket + "/" + key, notification);
            awaitNotificationsHandled(kafka);
            assertEquals(List.of(derived), triggeredRuns(orchestrator), "one run for the object version");
            assertEquals(1, kafka.events(Topics.TRAINING_REQUESTED, TrainingRequested.class, derived).size(),
                    "one TrainingRequested for " + derived);
            awaitEvaluated(fleet, orchestrator, derived, 2);

            // 4. a new orchestrator process with an empty folder: every run, the promotion, the dedupe memory
            JsonNode runsBefore = Http.get(orchestrator + "/runs");
            JsonNode promotionBefore = Http.get(orchestrator + "/promotions").path("current");
            int promotionsBefore = kafka.events(Topics.ADAPTER_PROMOTED, AdapterPromoted.class, null).size();
            fleet.kill("orchestrator");
            Path empty = Files.createDirectories(dir.resolve("empty-orchestrator-folder"));
            Map<String, String> fresh = new TreeMap<>(orchestratorConfig);
            fresh.put("java.io.tmpdir", empty.toString());
            fleet.start("orchestrator-2", StackService.ORCHESTRATOR, fresh);
            long restart = System.nanoTime();
            fleet.awaitReady();
            long restarted = System.nanoTime();
            String orchestrator2 = fleet.url("orchestrator-2");
            assertEquals(runsBefore, Http.get(orchestrator2 + "/runs"), "every run, as before the restart");
            assertEquals(promotionBefore, Http.get(orchestrator2 + "/promotions").path("current"),
                    "the promotion, as before the restart");
            kafka.produce(Topics.DATASET_NOTIFICATIONS, bucket + "/" + key, notification);
            awaitNotificationsHandled(kafka);
            assertEquals(List.of(derived), triggeredRuns(orchestrator2),
                    "the notification replayed after the restart starts no second run");
            assertEquals(1, kafka.events(Topics.TRAINING_REQUESTED, TrainingRequested.class, derived).size());
            assertEquals(promotionsBefore, kafka.events(Topics.ADAPTER_PROMOTED, AdapterPromoted.class, null).size(),
                    "the restarted orchestrator promotes nothing again");
            System.out.printf("WorkflowIT timings: services ready %.1f s, loop-1 submitted->served %.1f s,"
                    + " orchestrator restart->ready %.1f s, total %.1f s%n", (ready - t0) / 1e9,
                    (looped - ready) / 1e9, (restarted - restart) / 1e9, (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * {@code ./tuneloop train} in a child JVM (the CLI on this classpath) with the settings of {@code loop-1} on the same
     * two files; returns checkpoint name → sha256 of its adapter weights and prints the wall time as a BENCH line.
     */
    static Map<String, String> trainInOneProcess(Path work) throws Exception {
        Path train = Files.write(Files.createDirectories(work).resolve("train.jsonl"), TestData.train());
        Path evalFile = Files.write(work.resolve("eval.jsonl"), TestData.eval());
        Path out = work.resolve("run");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-Dai.djl.offline=true", "-Dtuneloop.shared.dir=" + System.getProperty("tuneloop.shared.dir"),
                "-cp", System.getProperty("java.class.path"), "dev.tuneloop.cli.Main", "train", "--model", "tiny",
                "--train", train.toString(), "--eval", evalFile.toString(), "--out", out.toString(), "--epochs", "1",
                "--batch-size", "4", "--grad-accum", "1", "--max-seq-len", "256",
                "--eval-limit", Integer.toString(TestData.EVAL_EXAMPLES), "--save-every-steps", "2",
                "--save-every-epochs", "0", "--prompt", "context", "--seed", "42");
        Path log = work.resolve("train.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(ServiceProcess.ENVIRONMENT);
        long t = System.nanoTime();
        Process p = builder.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "./tuneloop train did not end in 5 min; log " + log);
        double seconds = (System.nanoTime() - t) / 1e9;
        assertEquals(0, p.exitValue(), "./tuneloop train failed:\n" + Files.readString(log));
        System.out.printf(Locale.ROOT, "BENCH the same job in one process (./tuneloop train, JVM start, model load,"
                + " baseline evaluation, 4 steps, 2 checkpoint evaluations): %.3f s wall%n", seconds);
        Map<String, String> out2 = new TreeMap<>();
        try (var dirs = Files.list(out.resolve("checkpoints"))) {
            for (Path c : dirs.toList()) {
                byte[] digest = MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(c.resolve(AdapterFiles.WEIGHTS)));
                out2.put(c.getFileName().toString(), HexFormat.of().formatHex(digest));
            }
        }
        return out2;
    }

    /** The orchestrator's trigger for {@value #TRIGGER_PREFIX}: the same small run as the submitted one. */
    static Map<String, String> triggerConfig(String bucket, String modelId, String evalUri) {
        String t = "tuneloop.orchestrator.triggers.\"" + bucket + "/" + TRIGGER_PREFIX + "\".";
        Map<String, String> c = new TreeMap<>();
        c.put(t + "model-id", modelId);
        c.put(t + "eval-data-uri", evalUri);
        String h = t + "hyper-parameters.";
        c.put(h + "epochs", "1");
        c.put(h + "batch-size", "4");
        c.put(h + "grad-accum", "1");
        c.put(h + "max-seq-len", "256");
        c.put(h + "eval-limit", Integer.toString(TestData.EVAL_EXAMPLES));
        c.put(h + "save-every-epochs", "0");
        c.put(h + "save-every-steps", "2");
        c.put(h + "prompt-mode", "context");
        return c;
    }

    /** A bucket notification as MinIO's Kafka target writes it for a PUT (key URL-encoded in the record). */
    static byte[] minioNotification(String bucket, String key, String eTag, long size) {
        String encoded = java.net.URLEncoder.encode(key, StandardCharsets.UTF_8);
        return ("{\"EventName\":\"s3:ObjectCreated:Put\",\"Key\":\"" + bucket + "/" + key + "\",\"Records\":[{"
                + "\"eventVersion\":\"2.0\",\"eventSource\":\"minio:s3\",\"awsRegion\":\"\","
                + "\"eventTime\":\"" + Instant.now() + "\",\"eventName\":\"s3:ObjectCreated:Put\","
                + "\"userIdentity\":{\"principalId\":\"tuneloop\"},\"requestParameters\":{\"sourceIPAddress\":"
                + "\"127.0.0.1\"},\"responseElements\":{},\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":"
                + "\"Config\",\"bucket\":{\"name\":\"" + bucket + "\",\"ownerIdentity\":{\"principalId\":"
                + "\"tuneloop\"},\"arn\":\"arn:aws:s3:::" + bucket + "\"},\"object\":{\"key\":\"" + encoded
                + "\",\"size\":" + size + ",\"eTag\":\"" + eTag + "\",\"contentType\":\"application/jsonl\","
                + "\"sequencer\":\"1829A3F2C1D0E8A4\"}},\"source\":{\"host\":\"127.0.0.1\",\"port\":\"\","
                + "\"userAgent\":\"MinIO (linux; amd64) minio-go/v7.0.70\"}}]}").getBytes(StandardCharsets.UTF_8);
    }

    /** Waits until the orchestrator committed every notification on the topic (it commits after handling). */
    static void awaitNotificationsHandled(Kafka kafka) throws Exception {
        long end = kafka.endOffset(Topics.DATASET_NOTIFICATIONS);
        Http.await(Duration.ofMinutes(1), Duration.ofMillis(300), () -> "the orchestrator to handle " + end
                + " notifications", () -> kafka.committed("tuneloop-orchestrator", Topics.DATASET_NOTIFICATIONS)
                >= end ? true : null);
    }

    static List<String> triggeredRuns(String orchestrator) throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonNode r : Http.get(orchestrator + "/runs")) {
            if (r.path("runId").asText().startsWith("ds-")) {
                ids.add(r.path("runId").asText());
            }
        }
        return ids;
    }

    /** Waits until {@code runId} completed with {@code checkpoints} checkpoints, each evaluated; a failure fails. */
    static JsonNode awaitEvaluated(Fleet fleet, String orchestrator, String runId, int checkpoints) throws Exception {
        return Http.await(RUN_TIMEOUT, Duration.ofMillis(500), () -> runId + " to complete with " + checkpoints
                + " evaluated checkpoints" + fleet.logs(), () -> {
                    JsonNode r = Http.get(orchestrator + "/runs/" + runId);
                    String status = r.path("status").asText();
                    if (status.equals("FAILED") || status.equals("CANCELLED")) {
                        throw new AssertionError(runId + " " + status + ": " + r + fleet.logs());
                    }
                    if (!status.equals("COMPLETED") || r.path("checkpoints").size() < checkpoints) {
                        return null;
                    }
                    for (JsonNode c : r.path("checkpoints")) {
                        if (!c.path("f1").isNumber()) {
                            return null;
                        }
                    }
                    return r;
                });
    }

    static List<String> names(JsonNode run) {
        List<String> names = new ArrayList<>();
        run.path("checkpoints").forEach(c -> names.add(c.path("name").asText()));
        return names;
    }

    static JsonNode nullIfMissing(JsonNode node) {
        return node.isObject() ? node : null;
    }
}
