package dev.tuneloop.trainer.job;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.messaging.PublishException;
import dev.tuneloop.messaging.TransientFailure;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.train.InitAdapterException;
import dev.tuneloop.model.train.TrainConfig;
import dev.tuneloop.model.train.Trainer;
import dev.tuneloop.storage.DataFetcher;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StoragePolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one requested run: downloads its data and, if requested, the adapter to start from (policy-checked,
 * sha256-verified), resumes from the latest resume state in the store if an earlier worker left one (it takes
 * precedence over the init adapter), trains with {@link Trainer}, publishes every checkpoint's
 * adapter and resume state, and ends with exactly one of {@code RunCompleted}, {@code RunFailed},
 * {@code RunCancelled} (then recorded in {@code outcome.json}, so a redelivered request is not trained again).
 *
 * <p>Failures of the run itself become {@code RunFailed(stage, reason)}. Failures of the infrastructure (the broker
 * does not acknowledge, the object store is unreachable) are thrown: the request is redelivered and the next try
 * resumes from the last resume state. No Kafka here: events go to {@code events}, cancellations come from
 * {@link CancelRequests}.
 */
public final class TrainingJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingJob.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The {@code RunFailed} stage of every problem with the requested init adapter. */
    static final String INIT_ADAPTER = "init-adapter";

    /**
     * @param workDir local scratch space; each run gets {@code runs/<id>/} (emptied when a run starts)
     * @param modelId the base model this worker trains, a Hugging Face id (requests for another fail)
     * @param modelRevision the base model's revision (requests for another fail)
     * @param modelDir the base model's local folder
     * @param progressInterval least time between two progress events (the last step is always reported)
     */
    public record Settings(Path workDir, String workerId, String modelId, String modelRevision, Path modelDir,
            Device device, Duration progressInterval, String tuneloopVersion) {}

    private final Settings settings;
    private final ObjectStore store;
    private final StoragePolicy policy;
    private final DataFetcher data;
    private final CancelRequests cancels;
    private final Consumer<EventEnvelope<?>> events;

    public TrainingJob(Settings settings, ObjectStore store, StoragePolicy policy, CancelRequests cancels,
            Consumer<EventEnvelope<?>> events) {
        this.settings = settings;
        this.store = store;
        this.policy = policy;
        this.data = new DataFetcher(store, policy);
        this.cancels = cancels;
        this.events = events;
    }

    /** Runs the job for {@code request}; see {@link dev.tuneloop.messaging.JobLoop.Handler#handle}. */
    public void run(EventEnvelope<TrainingRequested> request, BooleanSupplier handoff) throws Exception {
        new Attempt(request, handoff).run();
    }

    /** The training configuration a request asks for, with tuneloop's defaults for what it does not set. */
    static TrainConfig trainConfig(TrainingRequested request, String modelId) {
        HyperParameters h = request.hyperParameters();
        return TrainConfig.builder(modelId, request.trainDataUri(), request.evalDataUri())
                .epochs(h.epochs()).lr(h.lr()).warmupRatio(h.warmupRatio()).weightDecay(h.weightDecay())
                .maxGradNorm(h.maxGradNorm()).batchSize(h.batchSize()).gradAccum(h.gradAccum()).loraR(h.loraR())
                .loraAlpha(h.loraAlpha()).loraDropout(h.loraDropout()).targetModules(h.targetModules())
                .maxSeqLen(h.maxSeqLen()).saveEveryEpochs(h.saveEveryEpochs()).saveEverySteps(h.saveEverySteps())
                .evalLimit(h.evalLimit()).prompt(PromptTemplate.defaults(PromptMode.fromJsonName(h.promptMode())))
                .seed(h.seed()).build();
    }

    /** One try at a run; holds what the callbacks of the trainer need. */
    private final class Attempt {
        private final String runId;
        private final TrainingRequested request;
        private final BooleanSupplier handoff;
        private final RunStore run;
        private final Path local;
        private final List<String> checkpoints = new ArrayList<>();
        private Lineage lineage;
        private String stage = "request";
        private ResumeState resumed;
        private long lastStep;
        private Instant lastProgress;
        private List<SquadExample> trainExamples;
        private List<SquadExample> evalExamples;

        Attempt(EventEnvelope<TrainingRequested> event, BooleanSupplier handoff) {
            this.runId = event.header().runId();
            this.request = event.payload();
            this.handoff = handoff;
            this.run = new RunStore(store, RunLayout.of(store.settings().bucket(), runId));
            this.local = settings.workDir().resolve("runs").resolve(runId);
            this.lineage = new Lineage(event.header().lineage().datasetSha256(), settings.modelId(),
                    settings.modelRevision(), settings.tuneloopVersion());
        }

        void run() throws Exception {
            Optional<String> ended = run.outcome();
            if (ended.isPresent()) {
                LOG.info("run {} already ended ({}); not training it again", runId, ended.get());
                return;
            }
            try {
                TrainConfig config = prepare();
                if (config == null) {
                    return;
                }
                stage = "train";
                Trainer.Summary summary = new Trainer(config, settings.modelDir(), trainExamples, evalExamples,
                        runDir())
                        .device(settings.device())
                        .evaluate(false)
                        .cancelWhen(() -> handoff.getAsBoolean() || cancels.reason(runId).isPresent())
                        .onStep(this::step)
                        .onCheckpoint(this::checkpoint)
                        .run(resumed != null);
                stage = "publish";
                run.uploadReport(runDir());
                end("completed", new RunCompleted(summary.steps(), checkpoints),
                        summary.steps() + " steps, checkpoints " + checkpoints);
            } catch (CancellationException e) {
                if (handoff.getAsBoolean()) {
                    LOG.info("run {}: handed off at step {}", runId, lastStep);
                    return;
                }
                String reason = cancels.reason(runId).orElse("cancelled");
                end("cancelled", new RunCancelled(reason, lastStep), reason);
            } catch (Exception e) {
                if (handoff.getAsBoolean()) {
                    LOG.info("run {}: handed off; it stopped with {}", runId, e.toString());
                    return;
                }
                if (TransientFailure.in(e)) {
                    throw e;
                }
                String reason = e.getMessage() == null ? e.toString() : e.getMessage();
                if (e instanceof InitAdapterException) { // found by the trainer: missing, unreadable or a misfit
                    stage = INIT_ADAPTER;
                    reason = "initAdapter " + request.initAdapter() + ": " + reason;
                }
                LOG.warn("run {} failed in stage {}: {}", runId, stage, reason, e);
                end("failed", new RunFailed(stage, reason), stage + ": " + reason);
            }
        }

        /** Checks the request, finds the resume state, downloads the data; null when the run was cancelled. */
        private TrainConfig prepare() throws IOException {
            stage = "model";
            if (!request.modelId().equals(settings.modelId()) || !request.modelRevision().equals(settings.modelRevision())) {
                throw new IllegalArgumentException("this worker trains " + settings.modelId() + "@"
                        + settings.modelRevision() + ", the run asks for " + request.modelId() + "@"
                        + request.modelRevision());
            }
            stage = "request";
            TrainConfig config = trainConfig(request, settings.modelId());
            Trainer.requireFits(config, settings.modelDir());
            ObjectUri initUri = null;
            if (request.initAdapter() != null) {
                stage = INIT_ADAPTER;
                initUri = policy.requireAllowed(request.initAdapter());
                if (!initUri.isFolder()) {
                    throw new IllegalArgumentException("initAdapter " + initUri + " must be an adapter folder (ending"
                            + " with '/')");
                }
                config = config.toBuilder().initAdapter(initAdapterDir().toString()).build();
            }

            stage = "resume";
            resumed = run.latestResume().orElse(null);
            long resumedStep = resumed == null ? 0 : resumed.step();
            lastStep = resumedStep;
            Optional<String> cancelled = cancels.reason(runId);
            if (cancelled.isPresent()) {
                end("cancelled", new RunCancelled(cancelled.get(), lastStep), cancelled.get());
                return null;
            }

            stage = "download";
            deleteTree(local);
            DataFetcher.Downloaded train = data.get("trainDataUri", request.trainDataUri(),
                    local.resolve("data/train"), null);
            String trainSha256 = train.sha256();
            String expected = lineage.datasetSha256();
            if (expected != null && !expected.equals(trainSha256)) {
                throw new IllegalArgumentException(request.trainDataUri() + " changed since the run was requested:"
                        + " sha256 " + trainSha256 + ", the request's lineage says " + expected);
            }
            lineage = new Lineage(trainSha256, settings.modelId(), settings.modelRevision(),
                    settings.tuneloopVersion());
            Path evalFile = data.get("evalDataUri", request.evalDataUri(), local.resolve("data/eval"), null).file();
            stage = "data";
            trainExamples = read("train", request.trainDataUri(), train.file());
            evalExamples = read("eval", request.evalDataUri(), evalFile);
            if (initUri != null && resumed == null) { // a resume state holds the trained weights already
                stage = INIT_ADAPTER;
                downloadInitAdapter(initUri);
            }

            stage = "resume";
            if (resumed != null) {
                run.restore(resumed, runDir());
                checkpoints.addAll(resumed.checkpoints());
                LOG.info("run {}: resuming from {} (step {}) saved by {}", runId, resumed.checkpoint(),
                        resumed.step(), resumed.workerId());
            }
            int attempt = run.recordAttempt(settings.workerId());
            emit(new TrainingStarted(settings.workerId(), attempt, resumedStep));
            return config;
        }

        /**
         * The PEFT adapter files under {@code prefix} into {@link #initAdapterDir}, each verified against the sha256
         * the store keeps for it (every tuneloop upload records one); the trainer checks that it fits the model.
         */
        private void downloadInitAdapter(ObjectUri prefix) throws IOException {
            List<String> present = store.list(prefix).stream().map(u -> u.key().substring(prefix.key().length()))
                    .toList();
            for (String file : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS)) {
                if (!present.contains(file)) {
                    throw new IllegalArgumentException("initAdapter " + prefix + " holds no " + file + " (found "
                            + present + "); a PEFT adapter folder needs " + AdapterFiles.CONFIG + " and "
                            + AdapterFiles.WEIGHTS);
                }
                store.get(prefix.resolve(file), initAdapterDir().resolve(file), null);
            }
            LOG.info("run {}: starting from the adapter {}", runId, prefix);
        }

        private Path initAdapterDir() {
            return local.resolve("init-adapter");
        }

        /** Reads a downloaded dataset; errors and bad records name its URI, not the scratch file. */
        private List<SquadExample> read(String what, String uri, Path file) throws IOException {
            SquadData data;
            try (InputStream in = Files.newInputStream(file)) { // errors name the URI, not the scratch file
                data = SquadReader.read(in, uri, OnBadRecord.SKIP);
            }
            LOG.info("run {}: {} data {}", runId, what, data.summary());
            return data.examples();
        }

        private Path runDir() {
            return local.resolve("run");
        }

        private void step(Trainer.StepMetrics m) {
            lastStep = m.step();
            Instant now = Instant.now();
            boolean due = lastProgress == null || m.step() == m.totalSteps()
                    || !now.isBefore(lastProgress.plus(settings.progressInterval()));
            if (!due) {
                return;
            }
            lastProgress = now;
            try {
                emit(new TrainingProgressed(m.step(), epochOf(m.epoch()), m.loss(), m.lr(), m.tokensPerS()));
            } catch (PublishException e) {
                LOG.warn("run {}: progress at step {} not published: {}", runId, m.step(), e.getMessage());
            }
        }

        private void checkpoint(Path dir) {
            String name = dir.getFileName().toString();
            stage = "checkpoint";
            try {
                JsonNode state = JSON.readTree(dir.resolve("trainer_state.json").toFile());
                long step = state.path("step").asLong();
                Map<String, StoredObject> adapter;
                if (resumed != null && name.equals(resumed.checkpoint())) {
                    adapter = resumed.adapter(); // uploaded by the worker that saved it
                } else {
                    adapter = run.uploadCheckpoint(dir);
                    checkpoints.remove(name);
                    checkpoints.add(name);
                    run.uploadResume(dir, step, runDir().resolve(RunStore.METRICS), adapter, checkpoints,
                            settings.workerId());
                }
                JsonNode adapterConfig = JSON.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
                emit(new CheckpointSaved(name, epochOf(state.path("epoch").asDouble()), step,
                        run.layout().checkpoint(name).toString(), adapter, adapterConfig));
                LOG.info("run {}: checkpoint {} (step {}) published", runId, name, step);
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoint " + name + " of run " + runId + ": " + e.getMessage(), e);
            }
            stage = "train";
        }

        private void end(String outcome, EventPayload event, String detail) throws IOException {
            emit(event);
            try {
                run.writeOutcome(outcome, settings.workerId(), detail);
            } catch (IOException e) {
                LOG.warn("run {} {}, but its outcome marker could not be written: {}", runId, outcome, e.getMessage());
            }
            LOG.info("run {} {}: {}", runId, outcome, detail);
        }

        private void emit(EventPayload payload) {
            events.accept(EventEnvelope.create(runId, lineage, payload, Instant.now()));
        }
    }

    /** The epoch (from 1) a step at fractional epoch position {@code epoch} belongs to. */
    static int epochOf(double epoch) {
        return Math.max(1, (int) Math.ceil(epoch - 1e-9));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
