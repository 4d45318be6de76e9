package dev.tuneloop.orchestrator;

import dev.tuneloop.orchestrator.messaging.EventPublisher;
import dev.tuneloop.orchestrator.state.PromotionPolicy;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StorageSettings;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Builds the plain-Java parts from the configuration; the only CDI producers of the service. */
public class Wiring {
    @Produces
    @Singleton
    RunRegistry registry(OrchestratorConfig config) {
        return new RunRegistry(config.keepLastCheckpoints());
    }

    @Produces
    @Singleton
    EventPublisher publisher(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
            OrchestratorConfig config) {
        return new EventPublisher(bootstrapServers, config.publishTimeout());
    }

    void close(@Disposes EventPublisher publisher) {
        publisher.close();
    }

    @Produces
    @Singleton
    ObjectStore store(OrchestratorConfig config) {
        OrchestratorConfig.Storage s = config.storage();
        return new ObjectStore(new StorageSettings(s.endpoint(), s.accessKey(), s.secretKey(),
                s.region().orElse(null), s.bucket()));
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
    RunCommands commands(RunRegistry registry, EventPublisher publisher, ObjectStore store,
            OrchestratorConfig config) {
        return new RunCommands(registry, publisher::publish, store, config.storage().runsPrefix(), config.version(),
                Clock.systemUTC());
    }
}
