package dev.tuneloop.orchestrator;

import static dev.tuneloop.orchestrator.Events.event;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.orchestrator.messaging.EventConsumer;
import dev.tuneloop.orchestrator.messaging.EventPublisher;
import dev.tuneloop.orchestrator.state.RunRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * A second orchestrator state (registry + consumer, as a restarted instance builds them) rebuilt from the same topics
 * ends up equal to the running one, and does not dead-letter or fail anything the first one already handled.
 */
@QuarkusTest
@QuarkusTestResource(BrokerAndStore.class)
class RestartTest {
    @Inject
    RunRegistry running;
    @Inject
    OrchestratorConfig config;

    @Test
    void aRestartRebuildsTheSameStateWithoutRepeatingSideEffects() throws Exception {
        Topic.until("ready", () -> given().get("/q/health/ready").statusCode() == 200);
        String run = "rs-run";
        given().contentType(ContentType.JSON).body(Events.RUN_BODY.formatted(run)).post("/runs")
                .then().statusCode(201);
        Topic.produceRaw(Topics.RUN_EVENTS, run, "garbage".getBytes(StandardCharsets.UTF_8));
        RecordMetadata last = Topic.produce(event(run, new TrainingProgressed(5, 1, 2.0, 1e-4, 100)));
        Topic.awaitHandled(config.consumerGroup(), last);
        Topic.until("the run failed", () -> "FAILED".equals(given().get("/runs/" + run).path("status")));
        long deadLetters = Topic.read(Topics.DEAD_LETTER).size();

        RunRegistry rebuilt = new RunRegistry(config.keepLastCheckpoints());
        List<String> failed = new CopyOnWriteArrayList<>();
        try (EventPublisher publisher = new EventPublisher(BrokerAndStore.bootstrapServers(), Duration.ofSeconds(10))) {
            EventConsumer consumer = new EventConsumer(BrokerAndStore.bootstrapServers(), config.consumerGroup(),
                    EventLoop.STATE_TOPICS, publisher,
                    new EventConsumer.Handlers(rebuilt::apply, (id, reason) -> failed.add(id), () -> { },
                            n -> { }));
            Thread thread = new Thread(consumer, "restarted-consumer");
            thread.start();
            try {
                Topic.until("the restarted consumer is live", consumer::isLive);
                Topic.until("the rebuilt state equals the running one",
                        () -> rebuilt.runs().equals(running.runs())
                                && rebuilt.promotions().equals(running.promotions()));
                assertEquals(0, consumer.deadLettered(), "records handled before are not dead-lettered again");
            } finally {
                consumer.stop();
                thread.join(10_000);
            }
        }
        assertTrue(failed.isEmpty(), "runs failed again: " + failed);
        assertEquals(deadLetters, Topic.read(Topics.DEAD_LETTER).size());
        assertTrue(rebuilt.run(run).isPresent());
    }
}
