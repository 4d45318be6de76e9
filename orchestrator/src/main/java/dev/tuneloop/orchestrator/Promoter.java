package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.orchestrator.state.Candidate;
import dev.tuneloop.orchestrator.state.Promotion;
import dev.tuneloop.orchestrator.state.PromotionPolicy;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.orchestrator.state.RunView;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides and publishes promotions of one served model: automatically per {@link PromotionPolicy}, or by hand (pinned
 * unless asked otherwise). A published promotion is applied to the registry at once, so the next decision counts
 * from its generation even before the consumer reads it back.
 */
public final class Promoter {
    private static final Logger LOG = LoggerFactory.getLogger(Promoter.class);

    private final RunRegistry registry;
    private final PromotionPolicy policy;
    private final String servedModel;
    private final Consumer<EventEnvelope<?>> publish;
    private final String version;
    private final Clock clock;

    public Promoter(RunRegistry registry, PromotionPolicy policy, String servedModel,
            Consumer<EventEnvelope<?>> publish, String version, Clock clock) {
        this.registry = registry;
        this.policy = policy;
        this.servedModel = servedModel;
        this.publish = publish;
        this.version = version;
        this.clock = clock;
    }

    public String servedModel() {
        return servedModel;
    }

    /** Promotes the policy's choice, if any; returns the published promotion. */
    public synchronized Optional<AdapterPromoted> reconcile() {
        Optional<Promotion> current = registry.promoted(servedModel);
        PromotionPolicy.Decision decision = policy.decide(current, registry.candidates());
        if (!(decision instanceof PromotionPolicy.Decision.Promote promote)) {
            LOG.debug("no promotion: {}", decision.reason());
            return Optional.empty();
        }
        Candidate c = promote.candidate();
        AdapterPromoted promoted = new AdapterPromoted(servedModel, nextGeneration(current), c.checkpoint(),
                c.files(), c.f1(), c.evalSetId(), false, clock.instant());
        LOG.info("promoting {}/{} as {} generation {}: {}", c.runId(), c.checkpoint(), servedModel,
                promoted.generation(), decision.reason());
        publishAndApply(c.runId(), promoted);
        return Optional.of(promoted);
    }

    /**
     * Promotes {@code runId}/{@code checkpoint} by hand. Pinned, automatic promotion leaves it in place; unpinned
     * (allowed only for an evaluated checkpoint) hands the choice back to the policy, which may replace it at once.
     *
     * @throws CommandException if the run or checkpoint is unknown, not saved, or its objects are not kept
     */
    public synchronized AdapterPromoted promoteByHand(String runId, String checkpoint, boolean pinned) {
        RunView run = registry.run(runId).orElseThrow(() -> CommandException.notFound("run " + runId + " is unknown"));
        RunView.Checkpoint view = run.checkpoints().stream()
                .filter(c -> c.name().equals(checkpoint))
                .findFirst()
                .orElseThrow(() -> CommandException.invalid("checkpoint",
                        "run " + runId + " has no checkpoint " + checkpoint + "; it has "
                                + run.checkpoints().stream().map(RunView.Checkpoint::name).toList()));
        CheckpointSaved saved = registry.savedCheckpoint(runId, checkpoint)
                .orElseThrow(() -> CommandException.conflict("checkpoint " + runId + "/" + checkpoint
                        + " was evaluated but its files are not saved yet"));
        if (!view.retained()) {
            throw CommandException.conflict("checkpoint " + runId + "/" + checkpoint
                    + " is not kept by the retention rule; its objects are deleted");
        }
        Optional<Promotion> current = registry.promoted(servedModel);
        Optional<RunView.Score> score = scoreFor(view, current, run.evalSetId());
        if (!pinned && score.isEmpty()) {
            throw CommandException.invalid("pinned",
                    "an unpinned promotion needs an evaluated checkpoint; " + checkpoint + " has no score");
        }
        AdapterPromoted promoted = new AdapterPromoted(servedModel, nextGeneration(current), checkpoint,
                saved.files(), score.map(RunView.Score::f1).orElse(null),
                score.map(RunView.Score::evalSetId).orElse(null), pinned, clock.instant());
        LOG.info("promoting {}/{} as {} generation {} by hand (pinned: {})", runId, checkpoint, servedModel,
                promoted.generation(), pinned);
        publishAndApply(runId, promoted);
        if (!pinned) {
            reconcile();
        }
        return promoted;
    }

    /** Prefer the score on the promoted adapter's eval set, so that later comparisons stay on it. */
    private static Optional<RunView.Score> scoreFor(RunView.Checkpoint checkpoint, Optional<Promotion> current,
            String runEvalSet) {
        List<RunView.Score> scores = checkpoint.scores();
        for (String evalSet : new String[] {current.map(p -> p.adapter().evalSetId()).orElse(null), runEvalSet}) {
            Optional<RunView.Score> match = scores.stream().filter(s -> s.evalSetId().equals(evalSet)).findFirst();
            if (match.isPresent()) {
                return match;
            }
        }
        return scores.stream().max(Comparator.comparing(RunView.Score::evaluatedAt));
    }

    private static long nextGeneration(Optional<Promotion> current) {
        return current.map(p -> p.adapter().generation() + 1).orElse(1L);
    }

    private void publishAndApply(String runId, AdapterPromoted promoted) {
        Lineage lineage = registry.lineage(runId).orElse(Lineage.unknown(version));
        EventEnvelope<AdapterPromoted> event = EventEnvelope.create(runId, lineage, promoted, clock.instant());
        publish.accept(event);
        registry.apply(event);
    }
}
