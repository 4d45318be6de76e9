package dev.tuneloop.orchestrator;

import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.config.StorageConfig;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.orchestrator.messaging.EventPublisher;
import dev.tuneloop.orchestrator.state.PromotionPolicy;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the plain-Java parts from the configuration; the only CDI producers of the service. */
public class Wiring {
    private static final Logger LOG = LoggerFactory.getLogger(Wiring.class);

    @Produces
    @Singleton
    RunRegistry registry(OrchestratorConfig config) {
        return new RunRegistry(config.keepLastCheckpoints());
    }

    @Produces
    @Singleton
    EventPublisher publisher(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
            OrchestratorConfig config, KafkaClientConfig kafka) {
        return new EventPublisher(bootstrapServers, config.publishTimeout(), KafkaClientConfig.clientProperties(kafka));
    }

    void close(@Disposes EventPublisher publisher) {
        publisher.close();
    }

    @Produces
    @Singleton
    ObjectStore store(StorageConfig s) {
        return new ObjectStore(new StorageSettings(s.endpoint(), s.accessKey(), s.secretKey(),
                s.region().orElse(null), s.bucket()));
    }

    /**
     * Where runs may read data from: the configured bucket under {@code tuneloop.storage.allowed-prefixes}, and
     * {@code https://} hosts on {@code tuneloop.storage.allowed-https-hosts} (none by default). The workers apply
     * the same keys before they download.
     */
    @Produces
    @Singleton
    StoragePolicy dataPolicy(StorageConfig s) {
        StoragePolicy policy = new StoragePolicy(s.bucket(), s.allowedPrefixes(),
                s.allowedHttpsHosts().orElse(List.of()));
        LOG.info("runs may read s3://{}/ under {} and https hosts {}", policy.bucket(), policy.allowedPrefixes(),
                policy.httpsHosts());
        return policy;
    }

    void close(@Disposes ObjectStore store) {
        store.close();
    }

    @Produces
    @Singleton
    Promoter promoter(RunRegistry registry, EventPublisher publisher, OrchestratorConfig config) {
        return new Promoter(registry, new PromotionPolicy(config.promotionMargin()), config.servedModel(),
                publisher::publish, config.version(), Clock.systemUTC());
    }

    @Produces
    @Singleton
    CheckpointPruner pruner(RunRegistry registry, ObjectStore store, OrchestratorConfig config) {
        return new CheckpointPruner(registry, store, config.runsPrefix());
    }

    @Produces
    @Singleton
    DatasetTriggers triggers(OrchestratorConfig config, RunRegistry registry, RunCommands commands) {
        Map<String, DatasetTriggers.Trigger> byPrefix = DatasetTriggers.from(config.triggers(), t ->
                new DatasetTriggers.Trigger(t.modelId(), t.modelRevision(), t.evalDataUri(), t.fromPromoted(),
                        hyperParameters(t.hyperParameters())));
        for (String prefix : byPrefix.keySet()) {
            int slash = prefix.indexOf('/');
            if (slash < 3) {
                throw new IllegalArgumentException("tuneloop.orchestrator.triggers key '" + prefix
                        + "' must be bucket/prefix, e.g. \"tuneloop/datasets/squad/\"");
            }
        }
        if (!byPrefix.isEmpty()) {
            LOG.info("watching for new datasets under {}", byPrefix.keySet());
        }
        return new DatasetTriggers(byPrefix, registry, commands, config.servedModel());
    }

    static HyperParameters hyperParameters(OrchestratorConfig.HyperParameterDefaults d) {
        return new HyperParameters(d.epochs(), d.lr(), d.warmupRatio(), d.weightDecay(), d.maxGradNorm(),
                d.batchSize(), d.gradAccum(), d.loraR(), d.loraAlpha(), d.loraDropout(), d.targetModules(),
                d.maxSeqLen(), d.saveEveryEpochs(), d.saveEverySteps(), d.evalLimit(), d.promptMode(), d.seed());
    }

    @Produces
    @Singleton
    RunCommands commands(RunRegistry registry, EventPublisher publisher, ObjectStore store,
            OrchestratorConfig config) {
        return new RunCommands(registry, publisher::publish, store, config.runsPrefix(), config.version(),
                Clock.systemUTC());
    }
}
