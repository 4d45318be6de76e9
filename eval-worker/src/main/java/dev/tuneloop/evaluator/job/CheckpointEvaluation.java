package dev.tuneloop.evaluator.job;

import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.messaging.TransientFailure;
import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadMetric;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.model.train.Evaluator;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.model.train.TrainConfig;
import dev.tuneloop.storage.DataFetcher;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.StoragePolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates one saved checkpoint: downloads its adapter files (policy-checked, verified against the event's sha256),
 * loads the adapter onto the base model this process loaded once, answers the run's eval set (named with the prompt
 * in the checkpoint's {@code tuneloop_config.json}; sampled as training samples it, at most {@code maxEvalLimit}
 * examples) and publishes {@code CheckpointEvaluated}. A checkpoint that cannot be evaluated fails its run
 * ({@code RunFailed}, stage {@code evaluate}); an unreachable store or broker is thrown, for a retry. Evaluations are
 * serialised: one adapter is on the base model at a time.
 */
public final class CheckpointEvaluation {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointEvaluation.class);
    static final String STAGE = "evaluate";

    /**
     * @param workDir local scratch space for adapter files and eval data (emptied after each checkpoint)
     * @param modelId the base model's Hugging Face id; a checkpoint whose lineage names another model fails
     * @param maxEvalLimit at most this many eval examples per checkpoint (0: as many as the run asks for)
     */
    public record Settings(Path workDir, String modelId, int maxEvalLimit, String tuneloopVersion) {}

    /** What became of one event. */
    public enum Outcome { EVALUATED, DUPLICATE, FAILED, HANDED_OFF }

    private final Settings settings;
    private final QaModel model;
    private final ObjectStore store;
    private final StoragePolicy policy;
    private final DataFetcher data;
    private final Consumer<EventEnvelope<?>> events;
    private final EvaluatedCheckpoints evaluated = new EvaluatedCheckpoints();

    public CheckpointEvaluation(Settings settings, QaModel model, ObjectStore store, StoragePolicy policy,
            Consumer<EventEnvelope<?>> events) {
        this.settings = settings;
        this.model = model;
        this.store = store;
        this.policy = policy;
        this.data = new DataFetcher(store, policy);
        this.events = events;
    }

    /** The eval sample size: the run's request, bounded by this worker's maximum (0 means unbounded on either side). */
    static int effectiveLimit(int runLimit, int maxLimit) {
        if (maxLimit <= 0) {
            return runLimit;
        }
        return runLimit <= 0 ? maxLimit : Math.min(runLimit, maxLimit);
    }

    /** See {@link dev.tuneloop.messaging.JobLoop.Handler#handle}. */
    public Outcome evaluate(EventEnvelope<CheckpointSaved> event, BooleanSupplier handoff) throws Exception {
        String runId = event.header().runId();
        CheckpointSaved saved = event.payload();
        Lineage lineage = event.header().lineage();
        Lineage ours = new Lineage(lineage.datasetSha256(), lineage.baseModelId(), lineage.baseModelRevision(),
                settings.tuneloopVersion());
        Path dir = settings.workDir().resolve("checkpoints").resolve(runId).resolve(saved.checkpoint());
        try {
            if (lineage.baseModelId() != null && !lineage.baseModelId().equals(settings.modelId())) {
                throw new IllegalArgumentException("checkpoint " + saved.checkpoint() + " was trained on "
                        + lineage.baseModelId() + ", this evaluator has " + settings.modelId());
            }
            policy.requireAllowed(saved.uriPrefix());
            deleteTree(dir);
            for (Map.Entry<String, StoredObject> f : saved.files().entrySet()) {
                store.get(policy.requireAllowed(f.getValue().uri()), dir.resolve(f.getKey()), f.getValue().sha256());
            }
            if (!Files.isRegularFile(dir.resolve(ServingPrompt.CONFIG_FILE))) {
                throw new IllegalArgumentException("checkpoint " + saved.checkpoint() + " lists no "
                        + ServingPrompt.CONFIG_FILE + " (files " + saved.files().keySet()
                        + "): its eval set and prompt are unknown");
            }
            TrainConfig trained = TrainConfig.read(dir.resolve(ServingPrompt.CONFIG_FILE));
            Path evalFile = data.get("evalData", trained.evalData(), dir.resolve("eval-data"), null).file();
            List<SquadExample> all;
            try (InputStream in = Files.newInputStream(evalFile)) { // errors name the URI, not the scratch file
                all = SquadReader.read(in, trained.evalData(), OnBadRecord.SKIP).examples();
            }
            List<SquadExample> sample = Evaluator.sample(all, effectiveLimit(trained.evalLimit(),
                    settings.maxEvalLimit()));
            String evalSetId = Evaluator.evalSetId(sample);
            String key = String.join("|", runId, saved.checkpoint(),
                    saved.files().values().stream().map(StoredObject::sha256).sorted().toList().toString(), evalSetId);
            if (evaluated.contains(key)) {
                LOG.info("run {}: checkpoint {} was already evaluated on eval set {}; skipping the repeat", runId,
                        saved.checkpoint(), evalSetId);
                return Outcome.DUPLICATE;
            }
            ServingPrompt prompt = ServingPrompt.forAdapter(dir);
            long answering = System.nanoTime();
            SquadMetric.Result r = answer(dir, prompt, trained, sample, handoff);
            double answerSeconds = (System.nanoTime() - answering) / 1e9;
            events.accept(EventEnvelope.create(runId, ours, new CheckpointEvaluated(saved.checkpoint(),
                    r.exactMatch(), r.f1(), evalSetId, r.n()), Instant.now()));
            evaluated.add(key);
            LOG.info("run {}: checkpoint {} exact_match {} f1 {} on {} examples ({}); answering took {} s", runId,
                    saved.checkpoint(), r.exactMatch(), r.f1(), r.n(), prompt.describe(),
                    String.format(Locale.ROOT, "%.3f", answerSeconds));
            return Outcome.EVALUATED;
        } catch (CancellationException e) {
            LOG.info("run {}: evaluation of {} handed off", runId, saved.checkpoint());
            return Outcome.HANDED_OFF;
        } catch (Exception e) {
            if (handoff.getAsBoolean()) {
                return Outcome.HANDED_OFF;
            }
            if (TransientFailure.in(e)) {
                throw e;
            }
            String reason = "checkpoint " + saved.checkpoint() + ": " + (e.getMessage() == null ? e : e.getMessage());
            LOG.warn("run {}: cannot evaluate: {}", runId, reason, e);
            events.accept(EventEnvelope.create(runId, ours, new RunFailed(STAGE, reason), Instant.now()));
            return Outcome.FAILED;
        } finally {
            deleteTree(dir);
        }
    }

    private SquadMetric.Result answer(Path adapterDir, ServingPrompt prompt, TrainConfig trained,
            List<SquadExample> sample, BooleanSupplier handoff) throws IOException {
        synchronized (model) {
            model.useAdapter(adapterDir);
            QaAnswerer answerer = model.answerer(prompt.template(), prompt.maxSeqLen(), trained.evalMaxNewTokens());
            return Evaluator.evaluate(answerer, sample, trained.evalBatchSize(), done -> {
                if (handoff.getAsBoolean()) {
                    throw new CancellationException("handed off after " + done + " answers");
                }
            }).result();
        }
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
