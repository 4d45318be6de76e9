package dev.tuneloop.evaluator.messaging;

import static dev.tuneloop.evaluator.Fixtures.ALL_FILES;
import static dev.tuneloop.evaluator.Fixtures.BUCKET;
import static dev.tuneloop.evaluator.Fixtures.EVAL_URI;
import static dev.tuneloop.messaging.testing.TestKafka.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.testing.KafkaBroker;
import dev.tuneloop.evaluator.Fixtures;
import dev.tuneloop.evaluator.job.CheckpointEvaluation;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.messaging.testing.TestKafka;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.train.Evaluator;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import dev.tuneloop.storage.StoragePolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluator's Kafka side on a real broker and a real S3 server, evaluating the tiny model's adapters. */
class EvaluatorMessagingTest {
    private static final String GROUP = "tuneloop-evaluators";
    private static KafkaBroker broker;
    private static TestKafka kafka;
    private static S3ProxyServer s3;
    private static ObjectStore store;
    private static EventPublisher publisher;
    private static QaModel base;
    private static EvaluatorMessaging messaging;
    private static Path adapter;
    private static Evaluator.Outcome expected;
    private static List<SquadExample> rigged;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        broker = KafkaBroker.start();
        broker.createTopics(Topics.all());
        kafka = new TestKafka(broker.bootstrapServers());
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings(BUCKET));
        store.ensureBucket();
        adapter = Fixtures.noiseAdapter(Files.createDirectories(tmp.resolve("adapter")), 13, EVAL_URI, 0);
        List<String> lines = Fixtures.squadLines(200, 5);
        List<String> riggedLines = Fixtures.rigged(lines,
                Fixtures.inProcess(adapter, Fixtures.examples(lines), 0).predictions());
        Fixtures.upload(store, EVAL_URI, riggedLines);
        rigged = Fixtures.examples(riggedLines);
        expected = Fixtures.inProcess(adapter, rigged, 0);

        KafkaSettings settings = new KafkaSettings(broker.bootstrapServers(), "evaluator-1", Map.of());
        publisher = new EventPublisher(settings, "test", Duration.ofSeconds(30));
        base = QaModel.open(Fixtures.tinyModel(), Device.cpu());
        CheckpointEvaluation job = new CheckpointEvaluation(new CheckpointEvaluation.Settings(
                Files.createDirectories(tmp.resolve("work")), Fixtures.MODEL_ID, 0, "test"), base, store,
                StoragePolicy.of(BUCKET, "datasets/", "runs/"), publisher::publish);
        messaging = EvaluatorMessaging.start(settings, new EvaluatorMessaging.Settings(GROUP, Duration.ofMillis(100),
                Duration.ofSeconds(30), Duration.ofSeconds(1)), publisher, job::evaluate);
    }

    @AfterAll
    static void stop() {
        messaging.close();
        base.close();
        publisher.close();
        store.close();
        s3.close();
        kafka.close();
        broker.close();
    }

    private static <P extends EventPayload> List<P> payloads(String topic, String runId, Class<P> type) {
        return kafka.events(topic, type).stream().filter(e -> e.header().runId().equals(runId))
                .map(EventEnvelope::payload).toList();
    }

    @Test
    void aSavedCheckpointIsEvaluatedOnceEvenWhenAnnouncedTwice() throws Exception {
        String run = "run-k1";
        long before = kafka.committed(GROUP, Topics.CHECKPOINT_SAVED);
        EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, run, "epoch-0001", adapter, ALL_FILES);
        kafka.send(saved);
        kafka.send(EventEnvelope.create(run, saved.header().lineage(), saved.payload(), Instant.now()));
        waitUntil(Duration.ofSeconds(60), "both records done",
                () -> kafka.committed(GROUP, Topics.CHECKPOINT_SAVED) == before + 2, messaging::status);

        assertEquals(List.of(new CheckpointEvaluated("epoch-0001", expected.result().exactMatch(),
                expected.result().f1(), Evaluator.evalSetId(rigged), 5)),
                payloads(Topics.CHECKPOINT_EVALUATED, run, CheckpointEvaluated.class));
        assertEquals(1, messaging.status().rebalances(), messaging.status().toString());
    }

    @Test
    void anUnreadableRecordIsDeadLetteredAndTheNextCheckpointOnItsPartitionIsStillEvaluated() throws Exception {
        String run = "run-k2";
        EventEnvelope<CheckpointSaved> saved = Fixtures.checkpoint(store, run, "epoch-0002", adapter, ALL_FILES);
        kafka.sendRaw(Topics.CHECKPOINT_SAVED, 1, "run-k2-bad", "{\"header\": 42}".getBytes(StandardCharsets.UTF_8));
        kafka.sendRaw(Topics.CHECKPOINT_SAVED, 1, run, EventCodec.toBytes(saved));
        waitUntil(Duration.ofSeconds(60), "the good checkpoint evaluated",
                () -> !payloads(Topics.CHECKPOINT_EVALUATED, run, CheckpointEvaluated.class).isEmpty(),
                messaging::status);

        List<ConsumerRecord<String, byte[]>> letters = kafka.records(Topics.DEAD_LETTER).stream()
                .filter(r -> "run-k2-bad".equals(r.key())).toList();
        assertEquals(1, letters.size());
        assertEquals("{\"header\": 42}", new String(letters.get(0).value(), StandardCharsets.UTF_8));
        List<RunFailed> failed = payloads(Topics.RUN_EVENTS, "run-k2-bad", RunFailed.class);
        assertEquals(1, failed.size());
        assertEquals("evaluate", failed.get(0).stage());
        assertTrue(failed.get(0).reason().contains("dead-lettered"), failed.get(0).reason());
        assertEquals(expected.result().f1(),
                payloads(Topics.CHECKPOINT_EVALUATED, run, CheckpointEvaluated.class).get(0).f1());
    }
}
