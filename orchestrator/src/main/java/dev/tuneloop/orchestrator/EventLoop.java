package dev.tuneloop.orchestrator;

import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.orchestrator.messaging.EventConsumer;
import dev.tuneloop.orchestrator.messaging.EventPublisher;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.storage.ObjectStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the event consumer on its own thread from start-up to shut-down: rebuilds the registry from the state topics,
 * then applies new events, fails runs whose events are malformed, promotes and applies checkpoint retention after
 * every change, and starts runs for new datasets.
 */
@ApplicationScoped
public class EventLoop {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    /** The topics the state is rebuilt from, read from the beginning on every start. */
    static final List<String> STATE_TOPICS = List.of(Topics.TRAINING_REQUESTED, Topics.RUN_EVENTS,
            Topics.CHECKPOINT_SAVED, Topics.CHECKPOINT_EVALUATED, Topics.ADAPTER_PROMOTED);

    private final OrchestratorConfig config;
    private final ObjectStore store;
    private final EventConsumer consumer;
    private final Thread thread;

    EventLoop(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers, OrchestratorConfig config,
            RunRegistry registry, EventPublisher publisher, RunCommands commands, Promoter promoter,
            DatasetTriggers triggers, CheckpointPruner pruner, ObjectStore store, MeterRegistry meters,
            KafkaClientConfig kafka) {
        this.config = config;
        this.store = store;
        List<String> topics = new ArrayList<>(STATE_TOPICS);
        topics.add(Topics.DATASET_NOTIFICATIONS);
        this.consumer = new EventConsumer(bootstrapServers, config.consumerGroup(), topics, publisher,
                new EventConsumer.Handlers(registry::apply, commands::failRun, () -> {
                    promoter.reconcile();
                    pruner.prune();
                }, triggers::on), KafkaClientConfig.clientProperties(kafka));
        this.thread = new Thread(consumer, "tuneloop-event-consumer");
        thread.setDaemon(true);
        Gauge.builder("tuneloop.orchestrator.dead.letters", consumer, EventConsumer::deadLettered)
                .description("records sent to the dead-letter topic since start").register(meters);
        Gauge.builder("tuneloop.orchestrator.runs", registry, r -> r.runs().size())
                .description("runs known to the orchestrator").register(meters);
        Gauge.builder("tuneloop.orchestrator.live", consumer, c -> c.isLive() ? 1 : 0)
                .description("1 once the state is rebuilt from the topics").register(meters);
        Gauge.builder("tuneloop.orchestrator.broker.unavailable", consumer, c -> c.brokerUnavailable() ? 1 : 0)
                .description("1 while the event consumer has no connection to the Kafka broker").register(meters);
        FunctionCounter.builder("tuneloop.orchestrator.publish.failures", publisher, EventPublisher::failures)
                .description("events or dead letters the broker did not acknowledge").register(meters);
    }

    void start(@Observes StartupEvent event) {
        LOG.info("orchestrator: served model {}, promotion margin {} F1, keep last {} checkpoints, storage {}, "
                + "runs under {}, dataset triggers {}", config.servedModel(), config.promotionMargin(),
                config.keepLastCheckpoints(), store.settings(), config.runsPrefix(),
                config.triggers().keySet());
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        consumer.stop();
        thread.join(10_000);
        if (thread.isAlive()) {
            LOG.warn("the event consumer did not stop within 10 s");
        }
    }

    public boolean isLive() {
        return consumer.isLive();
    }

    public String status() {
        return consumer.status();
    }

    /** True while the event consumer has no connection to the broker (see {@link EventConsumer#brokerUnavailable}). */
    public boolean brokerUnavailable() {
        return consumer.brokerUnavailable();
    }

    /** Refuses requests until the state is rebuilt: an answer from half the history would be wrong. */
    public void requireLive() {
        if (!consumer.isLive()) {
            throw new NotReadyException("the orchestrator is not ready: " + consumer.status());
        }
    }

    /** The state is not rebuilt yet; the REST layer answers 503. */
    public static final class NotReadyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotReadyException(String message) {
            super(message);
        }
    }
}
