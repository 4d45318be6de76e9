package dev.tuneloop.orchestrator.api;

import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.saved;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.Topic;
import dev.tuneloop.orchestrator.messaging.EventPublisher;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class DeadLetterTest {
    @Test
    void aMalformedRecordIsDeadLetteredFailsItsRunAndDoesNotBlockItsPartition() {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        String run = "dl-run";
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(run)).post("/runs")
                .then().statusCode(201);
        RecordMetadata bad = Topic.produceRaw(Topics.CHECKPOINT_SAVED, run,
                "{\"header\": {\"type\": \"CheckpointSaved\"".getBytes(StandardCharsets.UTF_8));
        RecordMetadata next = Topic.produce(event(run, saved(run, "c1", 1, 10)));
        assertEquals(bad.partition(), next.partition(), "same key, same partition");

        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetter(Topics.CHECKPOINT_SAVED, bad.offset());
        assertEquals(run, new String(letter.key(), StandardCharsets.UTF_8));
        assertTrue(header(letter, EventPublisher.DLQ_REASON).contains("not JSON"), header(letter,
                EventPublisher.DLQ_REASON));
        assertEquals(Integer.toString(bad.partition()), header(letter, EventPublisher.DLQ_PARTITION));

        Topic.until("the run failed and c1 was applied after the bad record", () -> {
            var view = given().get("/runs/" + run);
            return "FAILED".equals(view.path("status")) && List.of("c1").equals(view.path("checkpoints.name"));
        });
        given().get("/runs/" + run).then()
                .body("statusReason", containsString("malformed event on " + Topics.CHECKPOINT_SAVED))
                .body("checkpoints.saved", contains(true));
        assertEquals(1, Topic.await(Topics.RUN_EVENTS, 1,
                e -> e.header().runId().equals(run) && e.payload() instanceof RunFailed).size());
    }

    @Test
    void anEventOnTheWrongTopicIsDeadLetteredAndAnUnknownTypeIsSkipped() {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        String run = "dl-run-2";
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(run)).post("/runs")
                .then().statusCode(201);
        byte[] started = EventCodec.toBytes(event(run, new TrainingStarted("w", 1, 0)));
        RecordMetadata misplaced = Topic.produceRaw(Topics.CHECKPOINT_EVALUATED, run, started);
        String future = new String(started, StandardCharsets.UTF_8)
                .replace("\"TrainingStarted\"", "\"TrainingPaused\"")
                .replace("6f1c", "7f1c");
        RecordMetadata unknown = Topic.produceRaw(Topics.RUN_EVENTS, run, future.getBytes(StandardCharsets.UTF_8));

        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetter(Topics.CHECKPOINT_EVALUATED, misplaced.offset());
        assertTrue(header(letter, EventPublisher.DLQ_REASON).contains("TrainingStarted events belong on "
                + Topics.RUN_EVENTS), header(letter, EventPublisher.DLQ_REASON));
        Topic.awaitHandled("tuneloop-orchestrator", unknown);
        assertTrue(Topic.read(Topics.DEAD_LETTER).stream()
                .noneMatch(r -> header(r, EventPublisher.DLQ_TOPIC).equals(Topics.RUN_EVENTS)
                        && header(r, EventPublisher.DLQ_PARTITION).equals(Integer.toString(unknown.partition()))
                        && header(r, EventPublisher.DLQ_OFFSET).equals(Long.toString(unknown.offset()))),
                "an event type of a newer producer is skipped, not dead-lettered");
        given().get("/runs/" + run).then().body("status", equalTo("FAILED"));
    }

    private static ConsumerRecord<byte[], byte[]> awaitDeadLetter(String topic, long offset) {
        Topic.until("a dead letter of " + topic + "@" + offset, () -> find(topic, offset) != null);
        return find(topic, offset);
    }

    private static ConsumerRecord<byte[], byte[]> find(String topic, long offset) {
        return Topic.read(Topics.DEAD_LETTER).stream()
                .filter(r -> header(r, EventPublisher.DLQ_TOPIC).equals(topic)
                        && header(r, EventPublisher.DLQ_OFFSET).equals(Long.toString(offset)))
                .findFirst().orElse(null);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
