package dev.tuneloop.orchestrator.state;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.EVAL_SET_B;
import static dev.tuneloop.orchestrator.Events.T0;
import static dev.tuneloop.orchestrator.Events.evaluated;
import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.requested;
import static dev.tuneloop.orchestrator.Events.saved;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventHeader;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunDeleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.contracts.UnknownEvent;
import dev.tuneloop.orchestrator.Events;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RunRegistryTest {
    private static final String RUN = "run-1";

    /** A run's events grouped by topic, each list in its topic's (per-run partition) order. */
    private static List<List<EventEnvelope<?>>> lifecycle() {
        List<EventEnvelope<?>> requests = List.of(event(RUN, requested(), T0));
        List<EventEnvelope<?>> runEvents = List.of(
                event(RUN, new TrainingStarted("worker-a", 1, 0), T0.plusSeconds(1)),
                event(RUN, new TrainingProgressed(10, 1, 2.5, 1e-4, 900), T0.plusSeconds(2)),
                event(RUN, new TrainingProgressed(20, 2, 1.5, 1e-4, 950), T0.plusSeconds(3)),
                event(RUN, new TrainingProgressed(30, 3, 1.25, 5e-5, 960), T0.plusSeconds(4)),
                event(RUN, new RunCompleted(30, List.of("epoch-0001", "epoch-0002", "epoch-0003")), T0.plusSeconds(5)));
        List<EventEnvelope<?>> saves = List.of(
                event(RUN, saved(RUN, "epoch-0001", 1, 10), T0.plusSeconds(2)),
                event(RUN, saved(RUN, "epoch-0002", 2, 20), T0.plusSeconds(3)),
                event(RUN, saved(RUN, "epoch-0003", 3, 30), T0.plusSeconds(4)));
        List<EventEnvelope<?>> evaluations = List.of(
                event(RUN, evaluated("epoch-0001", 60, EVAL_SET_A), T0.plusSeconds(6)),
                event(RUN, evaluated("epoch-0002", 75, EVAL_SET_A), T0.plusSeconds(7)),
                event(RUN, evaluated("epoch-0003", 70, EVAL_SET_A), T0.plusSeconds(8)));
        List<EventEnvelope<?>> promotions = List.of(
                event(RUN, Events.promoted(RUN, "epoch-0001", 1, 60.0, EVAL_SET_A, false), T0.plusSeconds(6)),
                event(RUN, Events.promoted(RUN, "epoch-0002", 2, 75.0, EVAL_SET_A, false), T0.plusSeconds(7)));
        return List.of(requests, runEvents, saves, evaluations, promotions);
    }

    private static RunRegistry applyAll(List<EventEnvelope<?>> events) {
        RunRegistry registry = new RunRegistry(1);
        events.forEach(registry::apply);
        return registry;
    }

    @Test
    void aRunsLifecycleShowsStatusProgressEveryCheckpointAndTheBest() {
        RunRegistry registry = applyAll(lifecycle().stream().flatMap(List::stream).toList());
        RunView run = registry.run(RUN).orElseThrow();
        assertEquals(RunStatus.COMPLETED, run.status());
        assertEquals(30, run.progress().step());
        assertEquals(3, run.progress().epoch());
        assertEquals(3, run.progress().epochs());
        assertEquals(1.25, run.progress().loss());
        assertEquals("worker-a", run.progress().workerId());
        assertEquals(EVAL_SET_A, run.evalSetId());
        assertEquals(List.of("epoch-0001", "epoch-0002", "epoch-0003"),
                run.checkpoints().stream().map(RunView.Checkpoint::name).toList());
        assertEquals(List.of(60.0, 75.0, 70.0), run.checkpoints().stream().map(RunView.Checkpoint::f1).toList());
        assertEquals(List.of(50.0, 65.0, 60.0),
                run.checkpoints().stream().map(RunView.Checkpoint::exactMatch).toList());
        assertEquals("epoch-0002", run.best().name());
        assertEquals(75.0, run.best().f1());
        assertEquals(2, registry.promoted("qwen-squad").orElseThrow().adapter().generation());
        assertTrue(run.best().promoted());
    }

    @Test
    void onATiedF1TheBestIsTheEarlierEvaluationAsPromotionDecidesNotTheNamesSortOrder() {
        RunRegistry registry = applyAll(List.of(event(RUN, requested(), T0),
                event(RUN, saved(RUN, "step-000002", 1, 2), T0.plusSeconds(1)),
                event(RUN, saved(RUN, "epoch-0001", 1, 4), T0.plusSeconds(2)),
                event(RUN, evaluated("step-000002", 0, EVAL_SET_A), T0.plusSeconds(3)),
                event(RUN, evaluated("epoch-0001", 0, EVAL_SET_A), T0.plusSeconds(4))));
        assertEquals("step-000002", registry.run(RUN).orElseThrow().best().name(),
                "epoch-0001 sorts first by name but was evaluated later");
    }

    @Test
    void anyDeliveryOrderAcrossTopicsWithDuplicatesEndsInTheSameState() {
        List<List<EventEnvelope<?>>> topics = lifecycle();
        RunRegistry inOrder = applyAll(topics.stream().flatMap(List::stream).toList());
        Random random = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            List<EventEnvelope<?>> delivered = interleave(topics, random);
            // At-least-once delivery: some events come again, later.
            for (int i = 0, n = delivered.size(); i < n; i++) {
                if (random.nextInt(3) == 0) {
                    delivered.add(random.nextInt(i, delivered.size()) + 1, delivered.get(i));
                }
            }
            RunRegistry shuffled = applyAll(delivered);
            assertEquals(inOrder.runs(), shuffled.runs(), "trial " + trial);
            assertEquals(inOrder.promotions(), shuffled.promotions(), "trial " + trial);
            assertEquals(inOrder.candidates().size(), shuffled.candidates().size());
        }
    }

    /** A random merge that keeps each topic's order, as consumers of several partitions see them. */
    private static List<EventEnvelope<?>> interleave(List<List<EventEnvelope<?>>> topics, Random random) {
        List<EventEnvelope<?>> out = new ArrayList<>();
        int[] next = new int[topics.size()];
        int total = topics.stream().mapToInt(List::size).sum();
        while (out.size() < total) {
            int t = random.nextInt(topics.size());
            if (next[t] < topics.get(t).size()) {
                out.add(topics.get(t).get(next[t]++));
            }
        }
        return out;
    }

    @Test
    void anEvaluationBeforeItsCheckpointIsKeptButNotACandidateUntilSaved() {
        RunRegistry registry = new RunRegistry(2);
        registry.apply(event(RUN, evaluated("step-000100", 55, EVAL_SET_A)));
        RunView.Checkpoint early = registry.run(RUN).orElseThrow().checkpoints().get(0);
        assertFalse(early.saved());
        assertEquals(55.0, early.f1());
        assertNull(early.step());
        assertEquals(RunStatus.UNKNOWN, registry.run(RUN).orElseThrow().status());
        assertTrue(registry.candidates().isEmpty(), "no files to serve yet");

        registry.apply(event(RUN, saved(RUN, "step-000100", 1, 100)));
        RunView.Checkpoint complete = registry.run(RUN).orElseThrow().checkpoints().get(0);
        assertTrue(complete.saved());
        assertEquals(100L, complete.step());
        assertEquals(55.0, complete.f1());
        assertEquals(1, registry.candidates().size());
    }

    @Test
    void theFirstTerminalEventDecidesAndCancellingShowsUntilThen() {
        RunRegistry registry = new RunRegistry(2);
        registry.apply(event(RUN, requested()));
        assertEquals(RunStatus.REQUESTED, registry.run(RUN).orElseThrow().status());
        registry.apply(event(RUN, new TrainingStarted("w", 1, 0)));
        assertEquals(RunStatus.RUNNING, registry.run(RUN).orElseThrow().status());
        registry.apply(event(RUN, new CancelRequested("alice", "wrong data")));
        assertEquals(RunStatus.CANCELLING, registry.run(RUN).orElseThrow().status());
        registry.apply(event(RUN, new RunFailed("train", "loss became NaN at step 3")));
        assertFalse(registry.apply(event(RUN, new RunCompleted(3, List.of()))));
        RunView run = registry.run(RUN).orElseThrow();
        assertEquals(RunStatus.FAILED, run.status());
        assertEquals("train: loss became NaN at step 3", run.statusReason());
    }

    @Test
    void retentionKeepsTheLastKTheBestTheUnevaluatedAndThePromoted() {
        RunRegistry registry = new RunRegistry(2);
        double[] f1 = {50, 80, 60, 55, 58};
        for (int i = 1; i <= 6; i++) {
            registry.apply(event(RUN, saved(RUN, "c" + i, i, i * 10L)));
        }
        for (int i = 1; i <= 5; i++) {
            registry.apply(event(RUN, evaluated("c" + i, f1[i - 1], EVAL_SET_A)));
        }
        // c6 (not evaluated yet) and c5 are the last two, c2 is the best.
        assertEquals(List.of("c1", "c3", "c4"), names(registry.notRetained(RUN)));
        registry.apply(event(RUN, Events.promoted(RUN, "c3", 1, 60.0, EVAL_SET_A, true)));
        assertEquals(List.of("c1", "c4"), names(registry.notRetained(RUN)), "the promoted adapter is kept");
        Map<String, Boolean> retained = new TreeMap<>();
        registry.run(RUN).orElseThrow().checkpoints().forEach(c -> retained.put(c.name(), c.retained()));
        assertEquals(Map.of("c1", false, "c2", true, "c3", true, "c4", false, "c5", true, "c6", true), retained);
    }

    private static List<String> names(List<CheckpointSaved> saved) {
        return saved.stream().map(CheckpointSaved::checkpoint).toList();
    }

    @Test
    void theLatestReEvaluationCountsWhateverTheOrderAndTheMostUsedEvalSetIsTheRuns() {
        EventEnvelope<?> first = event(RUN, evaluated("c1", 40, EVAL_SET_A), T0.plusSeconds(1));
        EventEnvelope<?> again = event(RUN, evaluated("c1", 45, EVAL_SET_A), T0.plusSeconds(2));
        for (List<EventEnvelope<?>> order : List.of(List.of(first, again), List.of(again, first))) {
            RunRegistry registry = new RunRegistry(2);
            order.forEach(registry::apply);
            registry.apply(event(RUN, evaluated("c2", 99, EVAL_SET_B)));
            registry.apply(event(RUN, evaluated("c2", 30, EVAL_SET_A)));
            RunView run = registry.run(RUN).orElseThrow();
            assertEquals(EVAL_SET_A, run.evalSetId());
            assertEquals(45.0, run.checkpoints().get(0).f1());
            assertEquals("c1", run.best().name(), "F1 99 on another eval set does not make c2 the best");
            assertEquals(2, run.checkpoints().get(1).scores().size());
        }
    }

    @Test
    void aDeletedRunIsForgottenAndItsLateEventsIgnored() {
        RunRegistry registry = new RunRegistry(2);
        registry.apply(event(RUN, requested()));
        registry.apply(event(RUN, new RunCompleted(3, List.of())));
        registry.apply(event(RUN, new RunDeleted("alice", 4)));
        assertTrue(registry.run(RUN).isEmpty());
        assertFalse(registry.apply(event(RUN, saved(RUN, "c1", 1, 10))), "a straggler must not resurrect it");
        assertTrue(registry.run(RUN).isEmpty());
        assertTrue(registry.isTaken(RUN), "a deleted run's id is not reused");
        assertTrue(registry.runs().isEmpty());
    }

    @Test
    void theHighestGenerationIsPromotedWhateverTheOrderAndUnknownTypesAreSkipped() {
        RunRegistry registry = new RunRegistry(2);
        registry.apply(event("r2", Events.promoted("r2", "c1", 5, 70.0, EVAL_SET_A, false)));
        registry.apply(event("r1", Events.promoted("r1", "c1", 3, 60.0, EVAL_SET_A, false)));
        assertEquals(5, registry.promoted("qwen-squad").orElseThrow().adapter().generation());
        assertEquals(List.of(5L, 3L), registry.promotions().get("qwen-squad").stream()
                .map(p -> p.adapter().generation()).toList());
        EventHeader header = new EventHeader(UUID.randomUUID(), "RunArchived", 1, T0, RUN, Events.LINEAGE);
        assertFalse(registry.apply(new EventEnvelope<>(header,
                new UnknownEvent(JsonNodeFactory.instance.objectNode()))));
    }
}
