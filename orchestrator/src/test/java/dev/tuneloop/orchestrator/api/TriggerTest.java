package dev.tuneloop.orchestrator.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.MinioNotification;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.BrokerAndStore;
import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.Topic;
import dev.tuneloop.orchestrator.messaging.EventPublisher;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/** MinIO notifications on the real broker start runs per the configured trigger (see BrokerAndStore), once. */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class TriggerTest {
    @Test
    void aNewDatasetStartsOneRunHoweverOftenItsNotificationComes() {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        byte[] notification = Events.notification("s3:ObjectCreated:Put", "tuneloop",
                "datasets%2Fsquad%2Fnew+data.jsonl", "datasets/squad/new data.jsonl",
                "9b2cf535f27731c974343645a3985328");
        String runId = MinioNotification.fromBytes(Topics.DATASET_NOTIFICATIONS, notification).derivedRunId();
        Topic.produceRaw(Topics.DATASET_NOTIFICATIONS, "tuneloop/datasets/squad/new data.jsonl", notification);
        Topic.produceRaw(Topics.DATASET_NOTIFICATIONS, "tuneloop/datasets/squad/new data.jsonl", notification);
        RecordMetadata malformed = Topic.produceRaw(Topics.DATASET_NOTIFICATIONS, "x",
                "{\"EventName\": 1}".getBytes(StandardCharsets.UTF_8));
        Topic.awaitHandled("tuneloop-orchestrator", malformed);

        List<EventEnvelope<?>> requests = Topic.await(Topics.TRAINING_REQUESTED, 1,
                e -> e.header().runId().equals(runId));
        assertEquals(1, requests.size(), "a duplicate notification must not start a second run");
        TrainingRequested request = (TrainingRequested) requests.get(0).payload();
        assertEquals("s3://tuneloop/datasets/squad/new data.jsonl", request.trainDataUri());
        assertEquals("s3://tuneloop/eval/dev-12.jsonl", request.evalDataUri());
        assertEquals(1, request.hyperParameters().epochs());
        given().get("/runs/" + runId).then().statusCode(200).body("status", equalTo("REQUESTED"));

        assertTrue(Topic.read(Topics.DEAD_LETTER).stream().anyMatch(r ->
                Topics.DATASET_NOTIFICATIONS.equals(header(r.headers().lastHeader(EventPublisher.DLQ_TOPIC)))
                        && Long.toString(malformed.offset())
                                .equals(header(r.headers().lastHeader(EventPublisher.DLQ_OFFSET)))));
    }

    private static String header(Header header) {
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
