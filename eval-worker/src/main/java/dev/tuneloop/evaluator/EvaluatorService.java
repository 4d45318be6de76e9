package dev.tuneloop.evaluator;

import ai.djl.Device;
import dev.tuneloop.config.DeviceConfig;
import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.config.ModelConfig;
import dev.tuneloop.config.StorageConfig;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.evaluator.job.CheckpointEvaluation;
import dev.tuneloop.evaluator.messaging.EvaluatorMessaging;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.JobLoop;
import dev.tuneloop.messaging.KafkaSettings;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
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
 * Wires the eval worker at start-up: object store and policy, event publisher, then (in the background, since it
 * may mean a download) the base model, loaded once for the process, and the consumer loop that evaluates saved
 * checkpoints one at a time.
 */
@ApplicationScoped
public class EvaluatorService {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluatorService.class);

    @Inject
    EvaluatorConfig config;

    @Inject
    StorageConfig storageConfig;

    @Inject
    KafkaClientConfig kafkaConfig;

    @Inject
    ModelConfig modelConfig;

    @Inject
    DeviceConfig deviceConfig;

    @Inject
    EvaluatorMetrics metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown")
    String version;

    private ObjectStore store;
    private EventPublisher publisher;
    private volatile QaModel model;
    private volatile EvaluatorMessaging messaging;
    private volatile String startupError;
    private volatile boolean stopping;

    void start(@Observes StartupEvent event) {
        String workerId = config.workerId().orElseGet(EvaluatorService::defaultWorkerId);
        StorageConfig s = storageConfig;
        StorageSettings storage = new StorageSettings(s.endpoint(), s.accessKey(), s.secretKey(),
                s.region().orElse(null), s.bucket());
        StoragePolicy policy = new StoragePolicy(s.bucket(), s.allowedPrefixes(),
                s.allowedHttpsHosts().orElse(List.of()));
        // the shared TLS/SASL settings, then this worker's own client properties on top
        Map<String, String> clientProperties = new HashMap<>(KafkaClientConfig.clientProperties(kafkaConfig));
        clientProperties.putAll(config.messaging().kafka());
        KafkaSettings kafka = new KafkaSettings(bootstrapServers, workerId, clientProperties);
        LOG.info("evaluator {} (tuneloop {}): model {} ({}), eval limit {}, work dir {}, device {}, {}, allowed"
                + " prefixes {}, https hosts {}, kafka {} group {}", workerId, version, modelConfig.location(),
                modelConfig.id(), config.evalLimit(), config.workDir(), deviceConfig.device(), storage,
                s.allowedPrefixes(), policy.httpsHosts(), bootstrapServers, config.messaging().groupId());
        store = new ObjectStore(storage, new RetryPolicy(s.retryAttempts(), s.retryInitialBackoff(),
                s.retryMaxBackoff()));
        publisher = new EventPublisher(kafka, version, Duration.ofSeconds(30));
        metrics.observe(this);
        Thread starter = new Thread(() -> startLoop(kafka, policy), "evaluator-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void startLoop(KafkaSettings kafka, StoragePolicy policy) {
        try {
            Path dir = resolveModel();
            QaModel loaded = QaModel.open(dir, Device.fromName(deviceConfig.device()));
            LOG.info("base model loaded once for this process: {}", dir);
            CheckpointEvaluation job = new CheckpointEvaluation(new CheckpointEvaluation.Settings(config.workDir(),
                    modelConfig.id(), config.evalLimit(), version), loaded, store, policy, publisher::publish);
            JobLoop.Handler<CheckpointSaved> handler = (event, handoff) -> {
                long started = System.nanoTime();
                CheckpointEvaluation.Outcome outcome = job.evaluate(event, handoff);
                metrics.evaluated(outcome, Duration.ofNanos(System.nanoTime() - started));
            };
            EvaluatorConfig.Messaging m = config.messaging();
            synchronized (this) {
                if (stopping) {
                    loaded.close();
                    return;
                }
                model = loaded;
                messaging = EvaluatorMessaging.start(kafka, new EvaluatorMessaging.Settings(m.groupId(),
                        Duration.ofMillis(500), m.handoffTimeout(), m.retryBackoff()), publisher, handler);
            }
        } catch (Exception e) {
            startupError = "cannot start: " + e.getMessage();
            LOG.error("evaluator cannot start: {}", e.toString(), e);
        }
    }

    private Path resolveModel() throws IOException {
        ModelConfig m = modelConfig;
        return ModelLocator.resolveModel("tuneloop.model.location", m.location(), m.cacheDir(),
                m.tokenizerDir().orElse(null), Progress.silent());
    }

    private static String defaultWorkerId() {
        String host = System.getenv("HOSTNAME");
        return host != null && !host.isBlank() ? host : "evaluator-" + ProcessHandle.current().pid();
    }

    void stop(@Observes ShutdownEvent event) {
        synchronized (this) {
            stopping = true;
        }
        if (messaging != null) {
            messaging.close();
        }
        if (model != null) {
            model.close();
        }
        if (publisher != null) {
            publisher.close();
        }
        if (store != null) {
            store.close();
        }
    }

    public Optional<JobLoop.Status> loopStatus() {
        EvaluatorMessaging m = messaging;
        return m == null ? Optional.empty() : Optional.of(m.status());
    }

    public Optional<Path> modelDir() {
        QaModel m = model;
        return m == null ? Optional.empty() : Optional.of(m.modelDir());
    }

    public Optional<String> startupError() {
        return Optional.ofNullable(startupError);
    }
}
