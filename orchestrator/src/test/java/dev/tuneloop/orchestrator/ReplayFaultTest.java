package dev.tuneloop.orchestrator;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.orchestrator.api.PromotionsResource;
import dev.tuneloop.orchestrator.state.PromotionPolicy;
import dev.tuneloop.orchestrator.state.RunRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Fault: every event delivered twice and the topics interleaved adversarially (an evaluation before its checkpoint,
 * the request after the worker's events, {@code RunCompleted} before the last checkpoint is saved and evaluated, a
 * re-delivered older {@code AdapterPromoted} after a newer one, then the whole stream once more backwards). The
 * orchestrator, on the real broker, must end with the same {@code GET /runs/{id}} and {@code GET /promotions} as the
 * same classes given the stream once, in order. Its own profile gives it a fresh broker: promotions are global.
 */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
@TestProfile(ReplayFaultTest.FreshBroker.class)
class ReplayFaultTest {
    private static final String RUN = "replay-run";
    private static final String GROUP = "tuneloop-orchestrator-replay";

    /** A profile of its own, so the application and its broker start afresh for this test. */
    public static class FreshBroker implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tuneloop.orchestrator.consumer-group", GROUP);
        }
    }

    @Inject
    OrchestratorConfig config;
    @Inject
    ObjectMapper json;

    @Test
    void duplicatedAndReorderedDeliveryEndsInTheSameRunAndPromotionsAsOrderedDelivery() throws Exception {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        given().get("/promotions").then().statusCode(200); // nothing from other tests: a fresh broker
        assertEquals(0, given().get("/runs").then().statusCode(200).extract().jsonPath().getList("$").size());

        // A run as the trainer and the evaluator report it, in the order they produce it.
        Instant t = Events.T0;
        TrainingRequested request = Events.requested();
        EventEnvelope<?> requested = Events.event(RUN, new TrainingRequested(request.modelId(),
                request.modelRevision(), request.trainDataUri(), request.evalDataUri(), Events.hyperParameters(4),
                null), t);
        EventEnvelope<?> started = at(new TrainingStarted("worker-1", 1, 0), t, 1);
        List<EventEnvelope<?>> progress = new ArrayList<>();
        List<EventEnvelope<?>> saved = new ArrayList<>();
        List<EventEnvelope<?>> evaluated = new ArrayList<>();
        double[] f1 = {60.0, 60.5, 75.0, 70.0};
        for (int e = 1; e <= 4; e++) {
            progress.add(at(new TrainingProgressed(10L * e, e, 2.0 / e, 2e-4 / e, 900 + e), t, 100 * e));
            saved.add(at(Events.saved(RUN, name(e), e, 10L * e), t, 100 * e + 10));
            evaluated.add(at(new CheckpointEvaluated(name(e), f1[e - 1] - 10, f1[e - 1], EVAL_SET_A, 200), t,
                    100 * e + 50));
        }
        EventEnvelope<?> completed = at(new RunCompleted(40, List.of(name(1), name(2), name(3), name(4))), t, 420);
        List<EventEnvelope<?>> ordered = new ArrayList<>(List.of(requested, started));
        for (int i = 0; i < 3; i++) {
            ordered.addAll(List.of(progress.get(i), saved.get(i), evaluated.get(i)));
        }
        ordered.addAll(List.of(progress.get(3), saved.get(3), completed, evaluated.get(3)));

        // Reference: the orchestrator's state and promoter applied to each event once, in order.
        RunRegistry reference = new RunRegistry(config.keepLastCheckpoints());
        Promoter referencePromoter = new Promoter(reference, new PromotionPolicy(config.promotionMargin()),
                config.servedModel(), e -> { }, config.version(), Clock.systemUTC());
        for (EventEnvelope<?> event : ordered) {
            reference.apply(event);
            referencePromoter.reconcile();
        }

        // The same events through the broker: twice each, topics interleaved adversarially.
        List<EventEnvelope<?>> adversarial = List.of(
                started, started, progress.get(0),
                evaluated.get(0), requested, evaluated.get(0), saved.get(0), saved.get(0),
                progress.get(1), progress.get(0), saved.get(1), evaluated.get(1), evaluated.get(1),
                evaluated.get(2), progress.get(2), progress.get(3), completed, progress.get(1),
                saved.get(3), saved.get(2), evaluated.get(3), saved.get(1));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BrokerAndStore.bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
                Admin admin = BrokerAndStore.broker().admin()) {
            for (EventEnvelope<?> event : adversarial) {
                deliver(producer, admin, event.topic(), event.key().getBytes(StandardCharsets.UTF_8),
                        EventCodec.toBytes(event));
            }
            List<ConsumerRecord<byte[], byte[]>> promotions = Topic.read(Topics.ADAPTER_PROMOTED);
            assertEquals(2, promotions.size(), "promotions written by the orchestrator");
            for (int i = promotions.size() - 1; i >= 0; i--) { // the older one last
                ConsumerRecord<byte[], byte[]> old = promotions.get(i);
                deliver(producer, admin, old.topic(), old.key(), old.value());
            }
            for (int i = ordered.size() - 1; i >= 0; i--) { // the whole stream once more, backwards
                EventEnvelope<?> event = ordered.get(i);
                deliver(producer, admin, event.topic(), event.key().getBytes(StandardCharsets.UTF_8),
                        EventCodec.toBytes(event));
            }
        }

        JsonNode run = json.readTree(given().get("/runs/" + RUN).then().statusCode(200).extract().asString());
        assertEquals(asRead(reference.run(RUN).orElseThrow()), run);
        assertEquals("COMPLETED", run.path("status").asText());
        assertEquals(name(3), run.path("best").path("name").asText());
        assertEquals(75.0, run.path("best").path("f1").asDouble());
        List<String> retained = new ArrayList<>();
        run.path("checkpoints").forEach(c -> retained.add(c.path("name").asText() + "=" + c.path("retained")));
        assertEquals(List.of(name(1) + "=false", name(2) + "=true", name(3) + "=true", name(4) + "=true"), retained);

        JsonNode served = withoutDecisionTimes(json.readTree(
                given().get("/promotions").then().statusCode(200).extract().asString()));
        assertEquals(withoutDecisionTimes(asRead(referencePromotions(reference))), served);
        assertEquals(2, served.path("current").path("generation").asLong(), served.toString());
        assertEquals(name(3), served.path("current").path("checkpoint").asText());
        assertEquals(Events.prefix(RUN, name(3)) + "adapter_model.safetensors",
                served.path("current").path("files").path("adapter_model.safetensors").path("uri").asText());
        assertEquals(2, served.path("history").size(), "generations 2 and 1, nothing promoted twice: " + served);
        assertEquals(4, Topic.read(Topics.ADAPTER_PROMOTED).size(),
                "the orchestrator's 2 promotions and their 2 replays; the replay made it promote nothing new");
    }

    private static EventEnvelope<?> at(EventPayload payload, Instant t0, int seconds) {
        return Events.event(RUN, payload, t0.plusSeconds(seconds));
    }

    private static String name(int epoch) {
        return "epoch-%04d".formatted(epoch);
    }

    /**
     * Produces a record as its producer would (an event keeps its id on every delivery) and waits until the
     * orchestrator committed past it, i.e. applied it and did its side effects: one record at a time, in this order.
     */
    private static void deliver(KafkaProducer<byte[], byte[]> producer, Admin admin, String topic, byte[] key,
            byte[] value) throws Exception {
        RecordMetadata record = producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        Topic.until(GROUP + " handled " + tp + "@" + record.offset(), () -> {
            try {
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                        .get(10, TimeUnit.SECONDS).get(tp);
                return committed != null && committed.offset() > record.offset();
            } catch (Exception e) {
                throw new IllegalStateException("cannot read the offsets of " + GROUP + ": " + e, e);
            }
        });
    }

    /** The JSON a client reads for {@code value} (numbers typed as parsed, not as the Java fields). */
    private JsonNode asRead(Object value) throws Exception {
        return json.readTree(json.writeValueAsString(value));
    }

    private Object referencePromotions(RunRegistry reference) {
        List<PromotionsResource.PromotionView> history = reference.promotions()
                .getOrDefault(config.servedModel(), List.of()).stream()
                .map(p -> {
                    AdapterPromoted a = p.adapter();
                    return new PromotionsResource.PromotionView(p.runId(), a.checkpoint(), a.generation(), a.f1(),
                            a.evalSetId(), a.pinned(), a.promotedAt(), a.files());
                })
                .toList();
        return new PromotionsResource.Promotions(config.servedModel(), history.isEmpty() ? null : history.get(0),
                history);
    }

    /** When a promotion was decided is wall-clock time of the deciding instance; everything else must match. */
    private static JsonNode withoutDecisionTimes(JsonNode promotions) {
        ObjectNode copy = promotions.deepCopy();
        if (copy.get("current") instanceof ObjectNode current) {
            current.remove("promotedAt");
        }
        if (copy.get("history") instanceof ArrayNode history) {
            history.forEach(p -> ((ObjectNode) p).remove("promotedAt"));
        }
        assertTrue(copy.has("history"), copy.toString());
        return copy;
    }
}
