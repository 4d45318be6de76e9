package dev.tuneloop.messaging;

import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.messaging.testing.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer loop against a real broker: membership kept through long jobs, commits, dead letters, hand-off. */
class JobLoopTest {
    private static final String GROUP = "test-workers";
    private static final Lineage LINEAGE = new Lineage(null, "Qwen/Qwen2.5-0.5B-Instruct", "main", "test");

    private KafkaBroker broker;
    private TestKafka kafka;
    private EventPublisher publisher;
    private final List<JobLoop<TrainingRequested>> loops = new ArrayList<>();

    @BeforeEach
    void start() {
        broker = KafkaBroker.start();
        broker.createTopics(Topics.all());
        kafka = new TestKafka(broker.bootstrapServers());
        publisher = new EventPublisher(settings("publisher"), "test", Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() {
        loops.forEach(JobLoop::close);
        publisher.close();
        kafka.close();
        broker.close();
    }

    /** Short timeouts so that a loop that stopped polling during a job would be thrown out of the group. */
    private KafkaSettings settings(String clientId) {
        return new KafkaSettings(broker.bootstrapServers(), clientId, Map.of(
                "session.timeout.ms", "6000",
                "heartbeat.interval.ms", "500",
                "max.poll.interval.ms", "2000"));
    }

    private JobLoop<TrainingRequested> loop(String clientId, JobLoop.Handler<TrainingRequested> handler) {
        JobLoop.Settings s = new JobLoop.Settings(Topics.TRAINING_REQUESTED, GROUP, Duration.ofMillis(100),
                Duration.ofSeconds(20), Duration.ofMillis(500), Duration.ofMillis(200), "request");
        JobLoop<TrainingRequested> loop = new JobLoop<>(settings(clientId), s, TrainingRequested.class, publisher,
                handler).start();
        loops.add(loop);
        return loop;
    }

    static EventEnvelope<TrainingRequested> request(String runId) {
        HyperParameters hp = new HyperParameters(1, 1e-3, 0, 0, 1, 2, 1, 4, 8, 0, List.of("q_proj"), 256, 1, 0, 4,
                "context", 42);
        return EventEnvelope.create(runId, LINEAGE, new TrainingRequested("Qwen/Qwen2.5-0.5B-Instruct", "main",
                "s3://tuneloop/datasets/train.jsonl", "s3://tuneloop/datasets/eval.jsonl", hp, null), Instant.now());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void jobsLongerThanMaxPollIntervalRunOneAtATimeInTheSameMembershipAndCommitWhenDone() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        List<String> handled = Collections.synchronizedList(new ArrayList<>());
        List<Long> committedDuringJobs = Collections.synchronizedList(new ArrayList<>());
        JobLoop<TrainingRequested> loop = loop("w1", (event, handoff) -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            sleep(1500);
            committedDuringJobs.add(kafka.committed(GROUP, Topics.TRAINING_REQUESTED));
            sleep(1500); // 3 s in all: beyond max.poll.interval.ms
            handled.add(event.header().runId());
            running.decrementAndGet();
        });
        waitUntil(Duration.ofSeconds(20), "the partitions to be assigned", () -> loop.status().assignedPartitions() == 3,
                loop::status);
        for (String run : List.of("run-a", "run-b", "run-c")) {
            kafka.send(request(run));
        }
        waitUntil(Duration.ofSeconds(40), "three jobs", () -> handled.size() == 3, loop::status);
        waitUntil(Duration.ofSeconds(10), "the last commit",
                () -> kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == 3, loop::status);

        assertEquals(Set.of("run-a", "run-b", "run-c"), Set.copyOf(handled));
        assertEquals(1, maxRunning.get(), "never two jobs at once");
        assertEquals(List.of(0L, 1L, 2L), committedDuringJobs, "a job's offset is committed only after it ended");
        JobLoop.Status status = loop.status();
        assertEquals(1, status.rebalances(), "one assignment, never thrown out of the group: " + status);
        assertEquals(3, status.jobsDone());
        assertEquals(0, status.handedOff());
        waitUntil(Duration.ofSeconds(5), "lag 0", () -> loop.status().lag() == 0, loop::status);
    }

    @Test
    void unreadableRecordsAreDeadLetteredNameTheirRunAndDoNotBlockThePartition() {
        List<String> handled = Collections.synchronizedList(new ArrayList<>());
        JobLoop<TrainingRequested> loop = loop("w1", (event, handoff) -> handled.add(event.header().runId()));
        String topic = Topics.TRAINING_REQUESTED;
        byte[] garbage = "{not json".getBytes(StandardCharsets.UTF_8);
        kafka.sendRaw(topic, 0, "run-garbage", garbage);
        String badPayload = new String(EventCodec.toBytes(request("run-bad-payload")), StandardCharsets.UTF_8)
                .replace("\"epochs\":1", "\"epochs\":0");
        kafka.sendRaw(topic, 0, "run-bad-payload", badPayload.getBytes(StandardCharsets.UTF_8));
        EventEnvelope<CheckpointEvaluated> wrongType = EventEnvelope.create("run-wrong-type", LINEAGE,
                new CheckpointEvaluated("epoch-0001", 10, 20, "a".repeat(64), 5), Instant.now());
        kafka.sendRaw(topic, 0, "run-wrong-type", EventCodec.toBytes(wrongType));
        String future = "{\"header\":{\"eventId\":\"" + UUID.randomUUID() + "\",\"type\":\"TrainingScheduled\","
                + "\"schemaVersion\":1,\"occurredAt\":\"2026-01-01T00:00:00Z\",\"runId\":\"run-future\","
                + "\"lineage\":{\"tuneloopVersion\":\"9.0\"}},\"payload\":{\"at\":1}}";
        kafka.sendRaw(topic, 0, "run-future", future.getBytes(StandardCharsets.UTF_8));
        kafka.sendRaw(topic, 0, "run-good", EventCodec.toBytes(request("run-good")));

        waitUntil(Duration.ofSeconds(30), "the good record", () -> handled.contains("run-good"), loop::status);
        waitUntil(Duration.ofSeconds(10), "every offset committed", () -> kafka.committed(GROUP, topic) == 5,
                loop::status);
        assertEquals(List.of("run-good"), handled);
        assertEquals(3, loop.status().deadLettered());

        List<ConsumerRecord<String, byte[]>> letters = kafka.records(Topics.DEAD_LETTER);
        assertEquals(List.of("run-garbage", "run-bad-payload", "run-wrong-type"),
                letters.stream().map(ConsumerRecord::key).toList());
        ConsumerRecord<String, byte[]> first = letters.get(0);
        assertEquals("{not json", new String(first.value(), StandardCharsets.UTF_8), "the original bytes are kept");
        assertEquals(topic, header(first, EventPublisher.DLQ_SOURCE_TOPIC));
        assertEquals("0", header(first, EventPublisher.DLQ_SOURCE_OFFSET));
        assertEquals(GROUP, header(first, EventPublisher.DLQ_GROUP));
        assertTrue(header(first, EventPublisher.DLQ_REASON).contains("not JSON"), header(first, EventPublisher.DLQ_REASON));
        assertTrue(header(letters.get(1), EventPublisher.DLQ_REASON).contains("epochs"),
                header(letters.get(1), EventPublisher.DLQ_REASON));
        assertTrue(header(letters.get(2), EventPublisher.DLQ_REASON).contains("CheckpointEvaluated"),
                header(letters.get(2), EventPublisher.DLQ_REASON));

        Map<String, RunFailed> failed = kafka.events(Topics.RUN_EVENTS, RunFailed.class).stream()
                .collect(Collectors.toMap(e -> e.header().runId(), EventEnvelope::payload));
        assertEquals(Set.of("run-garbage", "run-bad-payload", "run-wrong-type"), failed.keySet());
        failed.values().forEach(f -> assertEquals("request", f.stage()));
        assertTrue(failed.get("run-bad-payload").reason().contains("epochs"), failed.get("run-bad-payload").reason());
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        assertNotNull(h, "header " + name);
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void aJobThatThrowsIsRetriedAndCommittedOnlyAfterItSucceeds() {
        AtomicInteger attempts = new AtomicInteger();
        List<Long> committedAtAttempt = Collections.synchronizedList(new ArrayList<>());
        JobLoop<TrainingRequested> loop = loop("w1", (event, handoff) -> {
            committedAtAttempt.add(kafka.committed(GROUP, Topics.TRAINING_REQUESTED));
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("object store unreachable");
            }
        });
        kafka.send(request("run-flaky"));
        waitUntil(Duration.ofSeconds(30), "two attempts", () -> attempts.get() == 2, loop::status);
        waitUntil(Duration.ofSeconds(10), "the commit", () -> kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == 1,
                loop::status);
        assertEquals(List.of(0L, 0L), committedAtAttempt);
        assertEquals(1, loop.status().jobsRetried());
        assertEquals(1, loop.status().jobsDone());
    }

    @Test
    void closingAWorkerHandsItsRunningJobToAnotherMember() {
        List<String> calls = Collections.synchronizedList(new ArrayList<>());
        List<UUID> eventIds = Collections.synchronizedList(new ArrayList<>());
        Map<String, JobLoop<TrainingRequested>> byName = new java.util.concurrent.ConcurrentHashMap<>();
        for (String name : List.of("w1", "w2")) {
            byName.put(name, loop(name, (event, handoff) -> {
                eventIds.add(event.header().eventId());
                if (calls.isEmpty()) {
                    calls.add(name + ":started");
                    while (!handoff.getAsBoolean()) {
                        sleep(50);
                    }
                    calls.add(name + ":handed-off");
                } else {
                    calls.add(name + ":done");
                }
            }));
        }
        waitUntil(Duration.ofSeconds(30), "both members assigned", () -> byName.values().stream()
                .allMatch(l -> l.status().assignedPartitions() > 0), () -> byName);
        kafka.send(request("run-moving"));
        waitUntil(Duration.ofSeconds(20), "the job to start", () -> !calls.isEmpty(), () -> calls);
        String first = calls.get(0).split(":")[0];
        String second = first.equals("w1") ? "w2" : "w1";
        assertEquals(0, kafka.committed(GROUP, Topics.TRAINING_REQUESTED));

        byName.get(first).close();
        waitUntil(Duration.ofSeconds(30), "the other member to finish the job", () -> calls.size() == 3, () -> calls);
        assertEquals(List.of(first + ":started", first + ":handed-off", second + ":done"), calls);
        assertEquals(1, byName.get(first).status().handedOff());
        assertFalse(byName.get(first).status().running());
        assertEquals(1, Set.copyOf(eventIds).size(), "the same event, redelivered");
        waitUntil(Duration.ofSeconds(10), "the commit", () -> kafka.committed(GROUP, Topics.TRAINING_REQUESTED) == 1,
                () -> byName.get(second).status());
    }

    @Test
    void aMemberWhoseJobPartitionMovesAwayHandsTheJobOffAndGoesOnWithItsOtherPartitions() {
        List<String> calls = Collections.synchronizedList(new ArrayList<>());
        JobLoop<TrainingRequested> first = loop("w1", (event, handoff) -> {
            String run = event.header().runId();
            calls.add("w1:" + run);
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (run.equals("run-p2") && !handoff.getAsBoolean() && System.nanoTime() < end) {
                sleep(50);
            }
        });
        waitUntil(Duration.ofSeconds(20), "w1 to hold all partitions", () -> first.status().assignedPartitions() == 3,
                first::status);
        String topic = Topics.TRAINING_REQUESTED;
        kafka.sendRaw(topic, 2, "run-p2", EventCodec.toBytes(request("run-p2")));
        waitUntil(Duration.ofSeconds(20), "the job on partition 2", () -> calls.contains("w1:run-p2"), () -> calls);

        // The sticky assignor gives the newcomer the last of w1's partitions: the one whose job is running.
        JobLoop<TrainingRequested> second = loop("w2", (event, handoff) -> calls.add("w2:" + event.header().runId()));
        waitUntil(Duration.ofSeconds(30), "the hand-off", () -> first.status().handedOff() == 1,
                () -> List.of(first.status(), second.status()));
        kafka.sendRaw(topic, 0, "run-p0", EventCodec.toBytes(request("run-p0")));
        kafka.sendRaw(topic, 1, "run-p1", EventCodec.toBytes(request("run-p1")));
        waitUntil(Duration.ofSeconds(30), "all three jobs", () -> calls.size() == 4, () -> calls);
        assertEquals(Set.of("w1:run-p2", "w2:run-p2", "w1:run-p0", "w1:run-p1"), Set.copyOf(calls),
                "w1 goes on with the partitions it kept; w2 redoes the handed-off job");
        waitUntil(Duration.ofSeconds(10), "every offset committed", () -> kafka.committed(GROUP, topic) == 3,
                () -> List.of(first.status(), second.status()));
    }
}
