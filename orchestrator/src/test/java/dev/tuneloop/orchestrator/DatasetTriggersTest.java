package dev.tuneloop.orchestrator;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MinioNotification;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunDeleted;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.state.RunRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatasetTriggersTest {
    private static final DatasetTriggers.Trigger SQUAD = new DatasetTriggers.Trigger("Qwen/Qwen2.5-0.5B-Instruct",
            "main", "s3://tuneloop/eval/dev-12.jsonl", false, Events.hyperParameters(2));
    private static final DatasetTriggers.Trigger SQUAD_V2 = new DatasetTriggers.Trigger("Qwen/Qwen2.5-0.5B-Instruct",
            "main", "s3://tuneloop/eval/dev-v2.jsonl", true, Events.hyperParameters(1));
    private static final Map<String, DatasetTriggers.Trigger> TRIGGERS =
            Map.of("tuneloop/datasets/squad/", SQUAD, "tuneloop/datasets/squad/v2/", SQUAD_V2);

    private final List<EventEnvelope<?>> published = new ArrayList<>();
    private final RunRegistry registry = new RunRegistry(3);
    private final DatasetTriggers triggers = triggers(registry);

    private DatasetTriggers triggers(RunRegistry state) {
        RunCommands commands = new RunCommands(state, published::add, null, "runs/", "test", Clock.systemUTC());
        return new DatasetTriggers(TRIGGERS, state, commands, "qwen-squad");
    }

    private static MinioNotification created(String key, String eTag) {
        return MinioNotification.fromBytes(Topics.DATASET_NOTIFICATIONS, Events.notification("s3:ObjectCreated:Put",
                "tuneloop", key.replace("/", "%2F"), key, eTag));
    }

    @Test
    void aNewObjectUnderAWatchedPrefixRequestsOneRunWithTheDerivedId() {
        MinioNotification n = created("datasets/squad/train-2026-03.jsonl", "0123abcd");
        List<String> started = triggers.on(n);

        assertEquals(List.of(n.derivedRunId()), started);
        assertTrue(started.get(0).matches("ds-[0-9a-f]{16}"), started.get(0));
        assertEquals(1, published.size());
        TrainingRequested request = (TrainingRequested) published.get(0).payload();
        assertEquals("s3://tuneloop/datasets/squad/train-2026-03.jsonl", request.trainDataUri());
        assertEquals("s3://tuneloop/eval/dev-12.jsonl", request.evalDataUri());
        assertEquals(2, request.hyperParameters().epochs());
        assertNull(request.initAdapter(), "from scratch is the default");
    }

    @Test
    void aRedeliveredNotificationStartsNothingAlsoAfterARebuild() {
        MinioNotification n = created("datasets/squad/train.jsonl", "0123abcd");
        triggers.on(n);
        assertEquals(List.of(), triggers.on(n));
        assertEquals(1, published.size());

        // A restarted orchestrator rebuilds its registry from the topics before it reads notifications.
        RunRegistry rebuilt = new RunRegistry(3);
        List.copyOf(published).forEach(rebuilt::apply);
        assertEquals(List.of(), triggers(rebuilt).on(n));
        assertEquals(1, published.size());

        // The same key with new content (another eTag) is another dataset version: another run.
        assertEquals(1, triggers(rebuilt).on(created("datasets/squad/train.jsonl", "ffff0000")).size());
    }

    @Test
    void aDeletedRunIsNotStartedAgainByItsNotification() {
        MinioNotification n = created("datasets/squad/train.jsonl", "0123abcd");
        String runId = triggers.on(n).get(0);
        registry.apply(event(runId, new RunCompleted(3, List.of())));
        registry.apply(event(runId, new RunDeleted("alice", 3)));
        assertEquals(List.of(), triggers.on(n));
    }

    @Test
    void removalsFoldersAndOtherPrefixesStartNothing() {
        byte[] removed = Events.notification("s3:ObjectRemoved:Delete", "tuneloop", "datasets%2Fsquad%2Fa.jsonl",
                "datasets/squad/a.jsonl", null);
        assertEquals(List.of(), triggers.on(MinioNotification.fromBytes(Topics.DATASET_NOTIFICATIONS, removed)));
        assertEquals(List.of(), triggers.on(created("datasets/squad/", "0123abcd")));
        assertEquals(List.of(), triggers.on(created("datasets/other/a.jsonl", "0123abcd")));
        assertEquals(List.of(), triggers.on(created("reports/squad/a.jsonl", "0123abcd")));
        assertTrue(published.isEmpty());
    }

    @Test
    void theLongestPrefixDecidesAndFromPromotedStartsFromTheServedAdapter() {
        triggers.on(created("datasets/squad/v2/train.jsonl", "0123abcd"));
        TrainingRequested fresh = (TrainingRequested) published.get(0).payload();
        assertEquals("s3://tuneloop/eval/dev-v2.jsonl", fresh.evalDataUri());
        assertNull(fresh.initAdapter(), "nothing promoted yet: a fresh LoRA");

        registry.apply(event("run-9", Events.promoted("run-9", "c3", 1, 70.0, EVAL_SET_A, false)));
        triggers.on(created("datasets/squad/v2/train.jsonl", "4567ef01"));
        TrainingRequested continued = (TrainingRequested) published.get(1).payload();
        assertEquals(Events.prefix("run-9", "c3"), continued.initAdapter());
    }
}
