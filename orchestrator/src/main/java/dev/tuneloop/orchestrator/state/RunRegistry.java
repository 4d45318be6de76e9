package dev.tuneloop.orchestrator.state;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventHeader;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunDeleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.orchestrator.state.RunState.CheckpointState;
import dev.tuneloop.orchestrator.state.RunState.Scored;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The orchestrator's state, built only by applying events: runs, their checkpoints and scores, and promotions.
 * Applying is idempotent (an event id is applied once) and, across topics, independent of the order: checkpoint
 * events may arrive before the run's request, an evaluation before its checkpoint. Within the run-events topic the
 * order is the producers' (one partition per run), and the first terminal event decides the final status.
 * Thread-safe; no Kafka or framework types.
 */
public final class RunRegistry {
    private final int keepLast;
    private final Map<String, RunState> runs = new HashMap<>();
    private final Set<String> deleted = new HashSet<>();
    private final Set<UUID> applied = new HashSet<>();
    /** Served model → promotions seen, newest first (the compacted topic keeps only the latest after compaction). */
    private final Map<String, List<Promotion>> promotions = new TreeMap<>();

    /** @param keepLast the retention rule's K: the last K saved checkpoints of a run are kept (besides the best) */
    public RunRegistry(int keepLast) {
        if (keepLast < 1) {
            throw new IllegalArgumentException("checkpoint retention must keep at least the last 1, got " + keepLast);
        }
        this.keepLast = keepLast;
    }

    /** Applies {@code event}; false if it changed nothing (seen before, of a deleted run, or of an unknown type). */
    public synchronized boolean apply(EventEnvelope<?> event) {
        EventHeader header = event.header();
        if (applied.contains(header.eventId())) {
            return false;
        }
        boolean changed = applyNew(header, event.payload());
        applied.add(header.eventId());
        return changed;
    }

    private boolean applyNew(EventHeader header, EventPayload payload) {
        String runId = header.runId();
        if (payload instanceof AdapterPromoted promoted) {
            List<Promotion> list = promotions.computeIfAbsent(promoted.servedModel(), m -> new ArrayList<>());
            list.add(new Promotion(runId, promoted, header.eventId()));
            list.sort((a, b) -> a.supersedes(b) ? -1 : b.supersedes(a) ? 1 : 0);
            return true;
        }
        if (deleted.contains(runId)) {
            return false;
        }
        if (payload instanceof RunDeleted) {
            runs.remove(runId);
            deleted.add(runId);
            return true;
        }
        RunState run = runs.computeIfAbsent(runId, RunState::new);
        if (payload instanceof TrainingRequested request) {
            if (run.request != null) {
                return false;
            }
            run.request = request;
            run.requestedAt = header.occurredAt();
            run.lineage = header.lineage();
        } else if (payload instanceof TrainingStarted started) {
            if (run.started == null || started.attempt() > run.started.attempt()) {
                run.started = started;
            }
        } else if (payload instanceof TrainingProgressed progress) {
            if (run.progress == null || progress.step() > run.progress.step()) {
                run.progress = progress;
            }
        } else if (payload instanceof CancelRequested) {
            run.cancelRequested = true;
        } else if (payload instanceof RunCompleted || payload instanceof RunFailed
                || payload instanceof RunCancelled) {
            if (run.terminal != null) {
                return false;
            }
            run.terminal = payload;
        } else if (payload instanceof CheckpointSaved saved) {
            run.checkpoint(saved.checkpoint()).saved = saved;
        } else if (payload instanceof CheckpointEvaluated evaluated) {
            run.checkpoint(evaluated.checkpoint()).score(evaluated, header.occurredAt(), header.eventId());
        } else {
            return false; // UnknownEvent: a newer producer's type, skipped on purpose
        }
        return true;
    }

    public synchronized Optional<RunView> run(String runId) {
        return Optional.ofNullable(runs.get(runId)).map(this::view);
    }

    /** Every run, newest request first (runs whose request is not known yet last, by id). */
    public synchronized List<RunView> runs() {
        return runs.values().stream()
                .sorted(Comparator.comparing((RunState r) -> r.requestedAt,
                                Comparator.nullsLast(Comparator.reverseOrder()))
                        .thenComparing(r -> r.runId))
                .map(this::view)
                .toList();
    }

    /** The ids of every run known (not deleted). */
    public synchronized List<String> runIds() {
        return runs.keySet().stream().sorted().toList();
    }

    /** True if a run with this id was requested or seen, or was deleted: its id cannot be used again. */
    public synchronized boolean isTaken(String runId) {
        return runs.containsKey(runId) || deleted.contains(runId);
    }

    /** The lineage of the run's request, for the events the orchestrator writes about it. */
    public synchronized Optional<Lineage> lineage(String runId) {
        return Optional.ofNullable(runs.get(runId)).map(r -> r.lineage);
    }

    /** The run's request, if seen. */
    public synchronized Optional<TrainingRequested> request(String runId) {
        return Optional.ofNullable(runs.get(runId)).map(r -> r.request);
    }

    public synchronized boolean isDeleted(String runId) {
        return deleted.contains(runId);
    }

    /** The saved checkpoint, if {@code CheckpointSaved} was seen for it. */
    public synchronized Optional<CheckpointSaved> savedCheckpoint(String runId, String checkpoint) {
        RunState run = runs.get(runId);
        CheckpointState state = run == null ? null : run.checkpoints.get(checkpoint);
        return Optional.ofNullable(state == null ? null : state.saved);
    }

    /** The current promotion of {@code servedModel}: the one with the highest generation. */
    public synchronized Optional<Promotion> promoted(String servedModel) {
        List<Promotion> list = promotions.get(servedModel);
        return list == null || list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
    }

    /** Every promotion seen, per served model, newest first. */
    public synchronized Map<String, List<Promotion>> promotions() {
        Map<String, List<Promotion>> copy = new TreeMap<>();
        promotions.forEach((model, list) -> copy.put(model, List.copyOf(list)));
        return copy;
    }

    /** Every checkpoint that is saved and scored, once per eval set it was scored on. */
    public synchronized List<Candidate> candidates() {
        List<Candidate> candidates = new ArrayList<>();
        for (RunState run : runs.values()) {
            run.checkpoints.forEach((name, checkpoint) -> {
                if (checkpoint.saved != null) {
                    for (Scored s : checkpoint.scores.values()) {
                        CheckpointEvaluated e = s.evaluation();
                        candidates.add(new Candidate(run.runId, name, checkpoint.saved.files(), e.exactMatch(),
                                e.f1(), e.evalSetId(), s.at()));
                    }
                }
            });
        }
        return candidates;
    }

    /** Saved checkpoints that the retention rule no longer keeps (their objects may be deleted). */
    public synchronized List<CheckpointSaved> notRetained(String runId) {
        RunState run = runs.get(runId);
        if (run == null) {
            return List.of();
        }
        RunView view = view(run);
        List<CheckpointSaved> out = new ArrayList<>();
        for (RunView.Checkpoint c : view.checkpoints()) {
            if (c.saved() && !c.retained()) {
                out.add(run.checkpoints.get(c.name()).saved);
            }
        }
        return out;
    }

    private RunView view(RunState run) {
        String evalSet = primaryEvalSet(run.checkpoints.values());
        Set<String> lastK = lastSaved(run, keepLast);
        Optional<String> best = run.checkpoints.entrySet().stream()
                .filter(e -> evalSet != null && e.getValue().scores.containsKey(evalSet))
                // ties: the earlier evaluation, as the promotion policy breaks them (not the name's sort order)
                .min(Comparator.comparingDouble((Map.Entry<String, CheckpointState> e) ->
                                -e.getValue().scores.get(evalSet).evaluation().f1())
                        .thenComparing(e -> e.getValue().scores.get(evalSet).at())
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey);
        List<RunView.Checkpoint> checkpoints = new ArrayList<>();
        RunView.Checkpoint bestView = null;
        for (Map.Entry<String, CheckpointState> e : ordered(run)) {
            String name = e.getKey();
            CheckpointState c = e.getValue();
            Scored onEvalSet = evalSet == null ? null : c.scores.get(evalSet);
            boolean isBest = best.isPresent() && best.get().equals(name);
            boolean promoted = isPromoted(run.runId, name);
            boolean retained = c.saved != null
                    && (lastK.contains(name) || isBest || onEvalSet == null || promoted);
            List<RunView.Score> scores = c.scores.values().stream()
                    .map(s -> new RunView.Score(s.evaluation().evalSetId(), s.evaluation().exactMatch(),
                            s.evaluation().f1(), s.evaluation().n(), s.at()))
                    .toList();
            RunView.Checkpoint view = new RunView.Checkpoint(name,
                    c.saved == null ? null : c.saved.epoch(), c.saved == null ? null : c.saved.step(),
                    c.saved == null ? null : c.saved.uriPrefix(), c.saved != null,
                    onEvalSet == null ? null : onEvalSet.evaluation().exactMatch(),
                    onEvalSet == null ? null : onEvalSet.evaluation().f1(), retained, promoted, scores);
            checkpoints.add(view);
            if (isBest) {
                bestView = view;
            }
        }
        RunView.Progress progress = null;
        if (run.progress != null || run.started != null) {
            TrainingProgressed p = run.progress;
            progress = new RunView.Progress(p == null ? 0 : p.step(), p == null ? 0 : p.epoch(),
                    run.request == null ? null : run.request.hyperParameters().epochs(),
                    p == null ? null : p.loss(), p == null ? null : p.lr(), p == null ? null : p.tokensPerS(),
                    run.started == null ? null : run.started.workerId(),
                    run.started == null ? 0 : run.started.attempt());
        }
        return new RunView(run.runId, run.status(), run.statusReason(), run.requestedAt, run.request, progress,
                evalSet, List.copyOf(checkpoints), bestView);
    }

    private boolean isPromoted(String runId, String checkpoint) {
        for (List<Promotion> list : promotions.values()) {
            Promotion current = list.get(0);
            if (current.runId().equals(runId) && current.adapter().checkpoint().equals(checkpoint)) {
                return true;
            }
        }
        return false;
    }

    /** The eval set most checkpoints were scored on; on a tie the smallest id, so the choice does not flicker. */
    private static String primaryEvalSet(Collection<CheckpointState> checkpoints) {
        Map<String, Integer> counts = new TreeMap<>();
        for (CheckpointState c : checkpoints) {
            c.scores.keySet().forEach(id -> counts.merge(id, 1, Integer::sum));
        }
        String primary = null;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (primary == null || e.getValue() > counts.get(primary)) {
                primary = e.getKey();
            }
        }
        return primary;
    }

    private static Set<String> lastSaved(RunState run, int k) {
        List<Map.Entry<String, CheckpointState>> saved = ordered(run).stream()
                .filter(e -> e.getValue().saved != null)
                .toList();
        Set<String> last = new HashSet<>();
        for (int i = Math.max(0, saved.size() - k); i < saved.size(); i++) {
            last.add(saved.get(i).getKey());
        }
        return last;
    }

    /** Saved checkpoints by step (then name), then the ones only evaluated so far, by name. */
    private static List<Map.Entry<String, CheckpointState>> ordered(RunState run) {
        return run.checkpoints.entrySet().stream()
                .sorted(Comparator.comparing((Map.Entry<String, CheckpointState> e) -> e.getValue().saved == null)
                        .thenComparingLong(e -> e.getValue().saved == null ? 0 : e.getValue().saved.step())
                        .thenComparing(Map.Entry::getKey))
                .toList();
    }
}
