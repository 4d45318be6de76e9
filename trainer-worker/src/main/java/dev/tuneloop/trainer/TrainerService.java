package dev.tuneloop.trainer;

import ai.djl.Device;
import dev.tuneloop.config.DeviceConfig;
import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.config.ModelConfig;
import dev.tuneloop.config.StorageConfig;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.JobLoop;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import dev.tuneloop.trainer.job.CancelRequests;
import dev.tuneloop.trainer.job.TrainingJob;
import dev.tuneloop.trainer.messaging.TrainerMessaging;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the trainer worker at start-up: object store and policy, event publisher, then (once the base model is
 * resolved, which may mean a download) the cancel watcher and the consumer loop that runs {@link TrainingJob}s. Shuts down in
 * reverse order; a job still running is handed off to another worker.
 */
@ApplicationScoped
public class TrainerService {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerService.class);

    @Inject
    TrainerConfig config;

    @Inject
    StorageConfig storageConfig;

    @Inject
    KafkaClientConfig kafkaConfig;

    @Inject
    ModelConfig modelConfig;

    @Inject
    DeviceConfig deviceConfig;

    @Inject
    TrainerMetrics metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown")
    String version;

    private volatile ObjectStore store;
    private EventPublisher publisher;
    private volatile TrainerMessaging messaging;
    private volatile Path modelDir;
    private volatile String startupError;
    private volatile boolean stopping;

    void start(@Observes StartupEvent event) {
        String workerId = config.workerId().orElseGet(TrainerService::defaultWorkerId);
        StorageConfig s = storageConfig;
        StorageSettings storage = new StorageSettings(s.endpoint(), s.accessKey(), s.secretKey(),
                s.region().orElse(null), s.bucket());
        StoragePolicy policy = new StoragePolicy(s.bucket(), s.allowedPrefixes(),
                s.allowedHttpsHosts().orElse(List.of()));
        // the shared TLS/SASL settings, then this worker's own client properties on top
        Map<String, String> clientProperties = new HashMap<>(KafkaClientConfig.clientProperties(kafkaConfig));
        clientProperties.putAll(config.messaging().kafka());
        KafkaSettings kafka = new KafkaSettings(bootstrapServers, workerId, clientProperties);
        LOG.info("trainer {} (tuneloop {}): model {} ({}@{}), work dir {}, device {}, {}, allowed prefixes {},"
                + " https hosts {}, kafka {} group {}", workerId, version, modelConfig.location(), modelConfig.id(),
                modelConfig.revision(), config.workDir(), deviceConfig.device(), storage, s.allowedPrefixes(),
                policy.httpsHosts(), bootstrapServers, config.messaging().groupId());
        store = new ObjectStore(storage, new RetryPolicy(s.retryAttempts(), s.retryInitialBackoff(),
                s.retryMaxBackoff()));
        publisher = new EventPublisher(kafka, version, Duration.ofSeconds(30));
        metrics.observe(publisher, this);
        Thread starter = new Thread(() -> startLoop(kafka, workerId, policy), "trainer-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void startLoop(KafkaSettings kafka, String workerId, StoragePolicy policy) {
        try {
            Path dir = resolveModel();
            TrainingJob.Settings settings = new TrainingJob.Settings(config.workDir(), workerId, modelConfig.id(),
                    modelConfig.revision(), dir, Device.fromName(deviceConfig.device()),
                    config.messaging().progressInterval(), version);
            CancelRequests cancels = new CancelRequests();
            TrainingJob job = new TrainingJob(settings, store, policy, cancels, publisher::publish);
            TrainerConfig.Messaging m = config.messaging();
            TrainerMessaging.Settings messagingSettings = new TrainerMessaging.Settings(m.groupId(),
                    Duration.ofMillis(500), m.handoffTimeout(), m.retryBackoff(), m.cancelLookback());
            synchronized (this) {
                if (stopping) {
                    return;
                }
                modelDir = dir;
                messaging = TrainerMessaging.start(kafka, messagingSettings, publisher, cancels, job);
            }
            LOG.info("trainer ready: base model {}", dir);
        } catch (Exception e) {
            startupError = "cannot start: " + e.getMessage();
            LOG.error("trainer cannot start: {}", e.toString(), e);
        }
    }

    private Path resolveModel() throws IOException {
        ModelConfig m = modelConfig;
        return ModelLocator.resolveModel("tuneloop.model.location", m.location(), m.cacheDir(),
                m.tokenizerDir().orElse(null), Progress.silent());
    }

    private static String defaultWorkerId() {
        String host = System.getenv("HOSTNAME");
        return host != null && !host.isBlank() ? host : "trainer-" + ProcessHandle.current().pid();
    }

    void stop(@Observes ShutdownEvent event) {
        synchronized (this) {
            stopping = true;
        }
        if (messaging != null) {
            messaging.close();
        }
        if (publisher != null) {
            publisher.close();
        }
        if (store != null) {
            store.close();
        }
    }

    /** The consumer loop's status once it runs. */
    public Optional<JobLoop.Status> loopStatus() {
        TrainerMessaging m = messaging;
        return m == null ? Optional.empty() : Optional.of(m.status());
    }

    public boolean watcherRunning() {
        TrainerMessaging m = messaging;
        return m != null && m.watcherRunning();
    }

    /** Transient storage failures and retries since start; empty before start-up. */
    public Optional<ObjectStore.Stats> storageStats() {
        ObjectStore s = store;
        return s == null ? Optional.empty() : Optional.of(s.stats());
    }

    public Optional<Path> modelDir() {
        return Optional.ofNullable(modelDir);
    }

    public Optional<String> startupError() {
        return Optional.ofNullable(startupError);
    }
}
