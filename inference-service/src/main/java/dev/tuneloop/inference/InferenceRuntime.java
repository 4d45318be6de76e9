package dev.tuneloop.inference;

import ai.djl.Device;
import dev.tuneloop.config.DeviceConfig;
import dev.tuneloop.config.KafkaClientConfig;
import dev.tuneloop.config.ModelConfig;
import dev.tuneloop.config.StorageConfig;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.inference.messaging.CheckpointConsumer;
import dev.tuneloop.inference.messaging.PromotionConsumer;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import dev.tuneloop.model.text.ChatTemplate;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the service in the background so health answers at once: loads the base model (once), starts the batcher,
 * then reads the promotions topic to its end and serves the newest promotion. Ready when both are done. Requests
 * before that get 503.
 */
@ApplicationScoped
public class InferenceRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(InferenceRuntime.class);

    /** The service is not ready (yet, or it failed to start): 503 with Retry-After. */
    public static final class NotReadyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotReadyException(String message) {
            super(message);
        }
    }

    private final InferenceConfig config;
    private final ModelConfig modelConfig;
    private final StorageConfig storageConfig;
    private final DeviceConfig deviceConfig;
    private final KafkaClientConfig kafkaConfig;
    private final MeterRegistry registry;
    private final String bootstrapServers;
    private volatile QaModel model;
    private volatile ObjectStore store;
    private volatile ModelServer server;
    private volatile PromotionFollower follower;
    private volatile PromotionConsumer consumer;
    private volatile CandidateCache candidates;
    private volatile CheckpointConsumer checkpoints;
    private volatile boolean checkpointsFollowed;
    private volatile boolean promotionsRead;
    private volatile String failure;
    private volatile Instant startedAt;

    public InferenceRuntime(InferenceConfig config, ModelConfig modelConfig, StorageConfig storageConfig,
            DeviceConfig deviceConfig, KafkaClientConfig kafkaConfig, MeterRegistry registry,
            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.config = config;
        this.modelConfig = modelConfig;
        this.storageConfig = storageConfig;
        this.deviceConfig = deviceConfig;
        this.kafkaConfig = kafkaConfig;
        this.registry = registry;
        this.bootstrapServers = bootstrapServers;
    }

    void onStart(@Observes StartupEvent event) {
        startedAt = Instant.now();
        ModelServer.Limits limits = new ModelServer.Limits(config.limits().maxPromptTokens(),
                config.limits().maxTokens(), config.limits().defaultMaxTokens(), config.limits().answerMaxTokens());
        Batcher.Settings batching = new Batcher.Settings(config.batching().maxBatchSize(),
                config.batching().maxWait(), config.batching().maxQueue(), config.batching().maxBatchTokens());
        if (config.swapHold().isNegative()) {
            throw new IllegalArgumentException("tuneloop.inference.swap-hold must not be negative: "
                    + config.swapHold());
        }
        LOG.info("tuneloop inference: model {}, served model {}, {}, {}, swap hold {}, storage {}",
                modelConfig.location(), config.servedModel(), limits, batching, config.swapHold(), storageSettings());
        Thread starter = new Thread(() -> start(limits, batching), "tuneloop-startup");
        starter.setDaemon(true);
        starter.start();
    }

    private void start(ModelServer.Limits limits, Batcher.Settings batching) {
        try {
            long t0 = System.nanoTime();
            Path dir = modelDir();
            QaModel qa = QaModel.open(dir, Device.fromName(deviceConfig.device()));
            model = qa;
            List<Long> stopIds = new ArrayList<>(GenerationConfig.eosIds(dir, qa.lm().config()));
            long imEnd = qa.tokenizer().tokenId(ChatTemplate.IM_END);
            if (!stopIds.contains(imEnd)) {
                stopIds.add(imEnd);
            }
            LOG.info("base model {} loaded from {} in {} ms", modelConfig.location(), dir,
                    (System.nanoTime() - t0) / 1_000_000);
            StorageConfig s = storageConfig;
            store = new ObjectStore(storageSettings(), new RetryPolicy(s.retryAttempts(), s.retryInitialBackoff(),
                    s.retryMaxBackoff()));
            StoragePolicy policy = new StoragePolicy(s.bucket(), s.allowedPrefixes(), List.of());
            LOG.info("adapters are read only from s3://{}/ under {}", policy.bucket(), policy.allowedPrefixes());
            AdapterFetcher fetcher = new AdapterFetcher(store, policy, Path.of(config.workDir()), qa.lm(),
                    config.maxAdapterBytes(), Clock.systemUTC());
            CandidateCache.Settings prefetch = new CandidateCache.Settings(config.prefetch().enabled(),
                    config.prefetch().maxCandidates());
            candidates = new CandidateCache(fetcher, prefetch, registry);
            follower = new PromotionFollower(config.servedModel(), fetcher, candidates, registry, Clock.systemUTC());
            Batcher batcher = new Batcher(qa.lm(), stopIds, batching, registry);
            PromotionFollower promotions = follower;
            Duration hold = config.swapHold();
            server = new ModelServer(qa.tokenizer(), batcher, config.servedModel(), promotions::current,
                    () -> promotions.currentForRequest(hold), ServedAdapter.base(Instant.now()),
                    config.baseModelName().orElse(modelConfig.location()), stopIds, limits);
            Counter malformed = Counter.builder("tuneloop.inference.promotions.malformed")
                    .description("promotion records that could not be decoded (skipped)").register(registry);
            Counter restarts = Counter.builder("tuneloop.inference.promotions.consumer.restarts")
                    .description("times the promotions consumer failed and started reading over").register(registry);
            consumer = new PromotionConsumer(bootstrapServers, KafkaClientConfig.clientProperties(kafkaConfig),
                    Topics.ADAPTER_PROMOTED, follower::offer,
                    this::markPromotionsRead, malformed::increment, restarts::increment);
            consumer.start();
            if (prefetch.enabled()) {
                Counter badCheckpoints = Counter.builder("tuneloop.inference.checkpoints.malformed")
                        .description("checkpoint records that could not be decoded (skipped)").register(registry);
                Counter checkpointRestarts = Counter.builder("tuneloop.inference.checkpoints.consumer.restarts")
                        .description("times the checkpoints consumer failed and started over").register(registry);
                checkpoints = new CheckpointConsumer(bootstrapServers, KafkaClientConfig.clientProperties(kafkaConfig),
                        follower::considerCandidate, () -> checkpointsFollowed = true, badCheckpoints::increment,
                        checkpointRestarts::increment);
                checkpoints.start();
            }
            LOG.info("prefetch of promotion candidates: {}", prefetch);
        } catch (Exception | Error e) {
            failure = "start-up failed: " + e;
            LOG.error("tuneloop inference could not start: {}", e.toString(), e);
        }
    }

    private void markPromotionsRead() {
        promotionsRead = true;
        ModelServer s = server;
        LOG.info("ready: serving {} as {} (base model as {})", s.current().describe(), s.servedModel(),
                s.baseModelName());
    }

    private Path modelDir() throws java.io.IOException {
        return ModelLocator.resolveModel("tuneloop.model.location", modelConfig.location(), modelConfig.cacheDir(),
                modelConfig.tokenizerDir().orElse(null), Progress.standard());
    }

    private StorageSettings storageSettings() {
        StorageConfig s = storageConfig;
        return new StorageSettings(s.endpoint(), s.accessKey(), s.secretKey(), s.region().orElse(null), s.bucket());
    }

    void onStop(@Observes ShutdownEvent event) {
        if (checkpoints != null) {
            checkpoints.close();
        }
        if (consumer != null) {
            consumer.close();
        }
        if (candidates != null) {
            candidates.close();
        }
        ModelServer s = server;
        if (s != null) {
            s.batcher().close();
        }
        if (store != null) {
            store.close();
        }
        if (model != null) {
            model.close();
        }
    }

    /** Base model loaded and promotions read to the end. */
    public boolean isReady() {
        return server != null && promotionsRead && failure == null;
    }

    /** The running server; 503 until ready. */
    public ModelServer server() {
        if (!isReady()) {
            throw new NotReadyException(failure != null ? failure
                    : server == null ? "the base model " + modelConfig.location() + " is still loading"
                    : "the promotions topic is still being read");
        }
        return server;
    }

    public PromotionFollower follower() {
        server();
        return follower;
    }

    /** Why the service cannot become ready, or {@code null}. */
    public String failure() {
        return failure;
    }

    public boolean baseModelLoaded() {
        return server != null;
    }

    /** The checkpoint topics are followed from their end (prefetch enabled and Kafka answered). */
    public boolean checkpointsFollowed() {
        return checkpointsFollowed;
    }

    public boolean promotionsRead() {
        return promotionsRead;
    }

    public boolean batcherAlive() {
        ModelServer s = server;
        return s == null || s.batcher().isAlive();
    }

    public Instant startedAt() {
        return startedAt;
    }

    public InferenceConfig config() {
        return config;
    }
}
