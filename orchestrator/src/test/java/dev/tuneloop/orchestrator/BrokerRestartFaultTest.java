package dev.tuneloop.orchestrator;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.evaluated;
import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.saved;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.contracts.testing.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Fault: the Kafka broker stops mid-run and comes back {@code tuneloop.fault.broker-outage} later (default 10 s) on
 * the same port with the same log directory. While it is away the orchestrator says so (readiness data, the
 * {@code tuneloop_orchestrator_broker_unavailable} gauge, a 503 naming the failed publish, the publish-failure
 * counter); once it is back the run goes on to completion with each checkpoint once, the better checkpoint is
 * promoted, and the consumer has handled every record (committed offsets at the log ends: no lag).
 */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
@TestProfile(BrokerRestartFaultTest.FreshBroker.class)
class BrokerRestartFaultTest {
    private static final String RUN = "broker-restart-run";
    private static final String GROUP = "tuneloop-orchestrator-broker-restart";

    /** A profile of its own, so the application and its broker start afresh for this test. */
    public static class FreshBroker implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tuneloop.orchestrator.consumer-group", GROUP,
                    "tuneloop.orchestrator.publish-timeout", "3s");
        }
    }

    @Test
    void theOrchestratorShowsTheOutageAndGoesOnWhenTheBrokerIsBack() throws Exception {
        Duration outage = Duration.parse("PT" + System.getProperty("tuneloop.fault.broker-outage", "10s")
                .toUpperCase());
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(RUN)).post("/runs")
                .then().statusCode(201);
        Topic.produce(event(RUN, new TrainingStarted("worker-1", 1, 0)));
        Topic.produce(event(RUN, saved(RUN, "epoch-0001", 1, 10)));
        Topic.awaitHandled(GROUP, Topic.produce(event(RUN, evaluated("epoch-0001", 60, EVAL_SET_A))));
        given().get("/promotions").then().body("current.checkpoint", equalTo("epoch-0001"));
        assertTrue(metrics().contains("tuneloop_orchestrator_broker_unavailable 0.0"), metrics());

        KafkaBroker broker = BrokerAndStore.broker();
        broker.stopBroker();
        long stopped = System.nanoTime();
        try {
            Topic.until("the outage shows in readiness and metrics",
                    () -> given().get("/q/health/ready").path("checks[0].data.brokerUnavailable").equals(true)
                            && metrics().contains("tuneloop_orchestrator_broker_unavailable 1.0"));
            given().get("/q/health/ready").then()
                    .body("checks[0].data.consumer", containsString("no connection to the Kafka broker"));
            given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted("during-outage")).post("/runs")
                    .then().statusCode(503).body("message", containsString("TrainingRequested"));
            assertTrue(metrics().matches("(?s).*tuneloop_orchestrator_publish_failures_total [1-9].*"), metrics());
            given().get("/runs/" + RUN).then().statusCode(200).body("status", equalTo("RUNNING"));
            long left = outage.toNanos() - (System.nanoTime() - stopped);
            if (left > 0) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
        } finally {
            broker.restartBroker();
        }

        Topic.produce(event(RUN, new TrainingProgressed(20, 2, 1.0, 1e-4, 900)));
        Topic.produce(event(RUN, saved(RUN, "epoch-0002", 2, 20)));
        Topic.produce(event(RUN, evaluated("epoch-0002", 80, EVAL_SET_A)));
        RecordMetadata last = Topic.produce(event(RUN, new RunCompleted(20, List.of("epoch-0001", "epoch-0002"))));
        Topic.awaitHandled(GROUP, last);
        Topic.until("the outage is over in the metrics",
                () -> metrics().contains("tuneloop_orchestrator_broker_unavailable 0.0"));
        given().get("/runs/" + RUN).then().statusCode(200)
                .body("status", equalTo("COMPLETED"))
                .body("checkpoints.name", equalTo(List.of("epoch-0001", "epoch-0002")))
                .body("best.name", equalTo("epoch-0002"));
        given().get("/promotions").then().body("current.checkpoint", equalTo("epoch-0002"))
                .body("current.generation", equalTo(2));
        given().get("/q/health/ready").then().statusCode(200).body("checks[0].data.brokerUnavailable", equalTo(false));
        Topic.until("every record on the state topics handled and committed (no lag)", () -> lag() == 0);
    }

    private static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** Records on the state topics the orchestrator's group has not committed. */
    private static long lag() {
        try (Admin admin = BrokerAndStore.broker().admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            long lag = 0;
            for (String topic : EventLoop.STATE_TOPICS) {
                int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                        .get(topic).partitions().size();
                for (int p = 0; p < partitions; p++) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)
                            .get(10, TimeUnit.SECONDS).offset();
                    OffsetAndMetadata c = committed.get(tp);
                    lag += end - (c == null ? 0 : c.offset());
                }
            }
            return lag;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the offsets of " + GROUP + ": " + e, e);
        }
    }
}
