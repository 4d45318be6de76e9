package dev.tuneloop.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.stack.StackService;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers SIGKILLed mid-job (their child JVMs, no cleanup code runs) and the job finishing anyway. A reference run is
 * trained without a trainer failure while the evaluator evaluating one of its checkpoints is killed (a second
 * evaluator takes its partitions). Then the same request as another run, its trainer killed at
 * {@value #TRAINER_KILLS} seeded-random steps, a fresh trainer started after each kill: the run completes, every
 * attempt resumes from the last uploaded resume state, at most one checkpoint interval is trained again, and every
 * checkpoint's adapter is bit for bit the reference run's (MKL_CBWR=AUTO,STRICT), with the same EM/F1.
 */
class FailoverIT {
    static final int TRAINER_KILLS = Integer.getInteger("tuneloop.it.trainer-kills", 5);
    static final long KILL_SEED = Long.getLong("tuneloop.it.kill-seed", 20261128L);
    static final int EPOCHS = 4;
    static final int STEPS = EPOCHS * TestData.TRAIN_EXAMPLES / 4;
    static final int INTERVAL = 3;
    /** Checkpoints at steps 3, 6, 9, 12, 15 and the last step, 16. */
    static final int CHECKPOINTS = STEPS / INTERVAL + 1;
    static final Map<String, String> FAST_PROGRESS = Map.of("tuneloop.trainer.messaging.progress-interval", "0s");

    @TempDir
    Path dir;

    @Test
    void killedEvaluatorAndTrainerRunsFinishWithTheUninterruptedRunsAdapter() throws Exception {
        long t0 = System.nanoTime();
        try (Fleet fleet = Fleet.start(dir)) {
            Kafka kafka = new Kafka(fleet.infra.kafka());
            String eval = TestData.upload(fleet.infra.storage(), "datasets/it/eval.jsonl", TestData.eval()).uri();
            String train = TestData.upload(fleet.infra.storage(), "datasets/it/train.jsonl", TestData.train()).uri();
            fleet.start("orchestrator", StackService.ORCHESTRATOR, Map.of());
            fleet.start("trainer-1", StackService.TRAINER, FAST_PROGRESS);
            fleet.start("evaluator-1", StackService.EVALUATOR, Map.of());
            fleet.start("evaluator-2", StackService.EVALUATOR, Map.of());
            fleet.awaitReady();
            long ready = System.nanoTime();
            String orchestrator = fleet.url("orchestrator");

            // 1. the reference run; the evaluator busy with one of its checkpoints is SIGKILLed
            String reference = "reference";
            Http.post(orchestrator + "/runs", TestData.runRequest(reference, fleet.model.id(),
                    fleet.model.revision(), train, eval, EPOCHS, INTERVAL));
            String busy = Http.await(Duration.ofMinutes(5), Duration.ofMillis(50), () -> "an evaluator evaluating"
                    + fleet.logs(), () -> {
                        for (String name : List.of("evaluator-1", "evaluator-2")) {
                            if (Http.metric(fleet.url(name), "tuneloop_evaluator_evaluating", null) == 1) {
                                return name;
                            }
                        }
                        return null;
                    });
            fleet.kill(busy);
            System.out.println("FailoverIT: SIGKILLed " + busy + " while it evaluated a checkpoint of " + reference);
            JsonNode referenceRun = WorkflowIT.awaitEvaluated(fleet, orchestrator, reference, CHECKPOINTS);
            JsonNode promotion = Http.await(Duration.ofMinutes(1), Duration.ofMillis(500), () -> "a promotion",
                    () -> WorkflowIT.nullIfMissing(Http.get(orchestrator + "/promotions").path("current")));
            assertEquals(reference, promotion.path("runId").asText(), promotion.toString());
            long referenceDone = System.nanoTime();

            // 2. the same request again; its trainer SIGKILLed at TRAINER_KILLS seeded-random steps
            String killed = "killed";
            List<Long> targets = killSteps();
            System.out.println("FailoverIT: killing the trainer at steps >= " + targets + " (seed " + KILL_SEED + ")");
            Random delays = new Random(KILL_SEED + 1);
            Http.post(orchestrator + "/runs", TestData.runRequest(killed, fleet.model.id(), fleet.model.revision(),
                    train, eval, EPOCHS, INTERVAL));
            List<Long> stepSeenAtKill = new ArrayList<>();
            List<Long> resumeStateAtKill = new ArrayList<>();
            for (int k = 1; k <= targets.size(); k++) {
                int attempt = k;
                long target = targets.get(k - 1);
                JsonNode progress = Http.await(Duration.ofMinutes(4), Duration.ofMillis(100), () -> killed
                        + " attempt " + attempt + " at step " + target + fleet.logs(), () -> {
                            JsonNode p = Http.get(orchestrator + "/runs/" + killed).path("progress");
                            return p.path("attempt").asInt() == attempt && p.path("step").asLong() >= target
                                    ? p : null;
                        });
                assertEquals("trainer-" + k, progress.path("workerId").asText(), progress.toString());
                Thread.sleep(delays.nextInt(700));
                long seen = Http.get(orchestrator + "/runs/" + killed).path("progress").path("step").asLong();
                fleet.kill("trainer-" + k);
                stepSeenAtKill.add(seen);
                resumeStateAtKill.add(latestResumeState(fleet, killed));
                fleet.start("trainer-" + (k + 1), StackService.TRAINER, FAST_PROGRESS);
            }
            JsonNode killedRun = WorkflowIT.awaitEvaluated(fleet, orchestrator, killed, CHECKPOINTS);
            long killedDone = System.nanoTime();

            List<TrainingStarted> starts = kafka.events(Topics.RUN_EVENTS, TrainingStarted.class, killed).stream()
                    .map(Kafka.Timed::payload).toList();
            assertEquals(targets.size() + 1, starts.size(), "one attempt per trainer: " + starts);
            assertEquals(0, starts.get(0).resumedFromStep());
            for (int k = 1; k <= targets.size(); k++) {
                TrainingStarted s = starts.get(k);
                assertEquals(k + 1, s.attempt(), s.toString());
                assertEquals("trainer-" + (k + 1), s.workerId(), s.toString());
                assertEquals(resumeStateAtKill.get(k - 1), s.resumedFromStep(), "attempt " + (k + 1)
                        + " resumes from the last resume state uploaded before kill " + k);
                long repeated = stepSeenAtKill.get(k - 1) - s.resumedFromStep();
                assertTrue(repeated <= INTERVAL, "kill " + k + " at step >= " + stepSeenAtKill.get(k - 1)
                        + " repeats " + repeated + " steps (resumed from " + s.resumedFromStep()
                        + "), more than one interval of " + INTERVAL);
            }
            System.out.println("FailoverIT: steps seen at the kills " + stepSeenAtKill + ", resumed from "
                    + starts.stream().map(TrainingStarted::resumedFromStep).toList());

            Map<String, String> referenceWeights = weights(kafka, reference);
            Map<String, String> killedWeights = weights(kafka, killed);
            assertEquals(CHECKPOINTS, referenceWeights.size(), referenceWeights.toString());
            assertEquals(referenceWeights, killedWeights, "every checkpoint's adapter_model.safetensors sha256 equals"
                    + " the uninterrupted run's (bitwise)");
            assertEquals(scores(referenceRun), scores(killedRun), "same adapters, same EM/F1");
            assertFalse(Http.get(orchestrator + "/promotions").path("current").isMissingNode());
            System.out.printf("FailoverIT timings: services ready %.1f s, reference run %.1f s, run with %d trainer"
                    + " kills %.1f s, total %.1f s%n", (ready - t0) / 1e9, (referenceDone - ready) / 1e9,
                    targets.size(), (killedDone - referenceDone) / 1e9, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** {@link #TRAINER_KILLS} distinct steps in 1..STEPS-2, seeded, ascending (the last step is never a target). */
    static List<Long> killSteps() {
        Random random = new Random(KILL_SEED);
        TreeSet<Long> steps = new TreeSet<>();
        while (steps.size() < Math.min(TRAINER_KILLS, STEPS - 2)) {
            steps.add(1L + random.nextInt(STEPS - 2));
        }
        return new ArrayList<>(steps);
    }

    /** The step of the newest complete resume state ({@code runs/<id>/resume/<name>/manifest.json}), 0 if none. */
    static long latestResumeState(Fleet fleet, String runId) throws Exception {
        try (ObjectStore store = new ObjectStore(fleet.infra.storage())) {
            long best = 0;
            for (ObjectUri uri : store.list(store.uri("runs/" + runId + "/resume/"))) {
                if (uri.key().endsWith("/manifest.json")) {
                    try (var in = store.open(uri)) {
                        best = Math.max(best, Http.JSON.readTree(in).path("step").asLong());
                    }
                }
            }
            return best;
        }
    }

    /** Checkpoint name → sha256 of its adapter weights, from the run's CheckpointSaved events. */
    static Map<String, String> weights(Kafka kafka, String runId) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Kafka.Timed<CheckpointSaved> s : kafka.events(Topics.CHECKPOINT_SAVED, CheckpointSaved.class, runId)) {
            String sha = s.payload().files().get(AdapterFiles.WEIGHTS).sha256();
            String before = out.putIfAbsent(s.payload().checkpoint(), sha);
            assertTrue(before == null || before.equals(sha), runId + " published " + s.payload().checkpoint()
                    + " twice with different weights: " + before + " vs " + sha);
        }
        return out;
    }

    static Map<String, String> scores(JsonNode run) {
        Map<String, String> out = new LinkedHashMap<>();
        run.path("checkpoints").forEach(c -> out.put(c.path("name").asText(),
                c.path("exactMatch").asText() + "/" + c.path("f1").asText()));
        return out;
    }
}
