package dev.tuneloop.orchestrator.state;

import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** The facts gathered about one run; {@link RunRegistry} owns it and turns it into a {@link RunView}. */
final class RunState {
    final String runId;
    TrainingRequested request;
    Lineage lineage;
    Instant requestedAt;
    TrainingStarted started;
    TrainingProgressed progress;
    boolean cancelRequested;
    /** The first of RunCompleted, RunFailed, RunCancelled on the run's (ordered) run-events partition. */
    EventPayload terminal;
    final Map<String, CheckpointState> checkpoints = new TreeMap<>();

    RunState(String runId) {
        this.runId = runId;
    }

    RunStatus status() {
        if (terminal instanceof RunCompleted) {
            return RunStatus.COMPLETED;
        } else if (terminal instanceof RunFailed) {
            return RunStatus.FAILED;
        } else if (terminal instanceof RunCancelled) {
            return RunStatus.CANCELLED;
        } else if (cancelRequested) {
            return RunStatus.CANCELLING;
        } else if (started != null) {
            return RunStatus.RUNNING;
        }
        return request != null ? RunStatus.REQUESTED : RunStatus.UNKNOWN;
    }

    String statusReason() {
        if (terminal instanceof RunFailed failed) {
            return failed.stage() + ": " + failed.reason();
        } else if (terminal instanceof RunCancelled cancelled) {
            return cancelled.reason();
        }
        return null;
    }

    CheckpointState checkpoint(String name) {
        return checkpoints.computeIfAbsent(name, n -> new CheckpointState());
    }

    static final class CheckpointState {
        CheckpointSaved saved;
        /** Eval set id → the latest evaluation on it (a re-evaluation replaces an older one, whatever the order). */
        final Map<String, Scored> scores = new TreeMap<>();

        void score(CheckpointEvaluated evaluation, Instant at, UUID eventId) {
            Scored candidate = new Scored(evaluation, at, eventId);
            scores.merge(evaluation.evalSetId(), candidate, (old, neu) -> neu.isNewerThan(old) ? neu : old);
        }
    }

    record Scored(CheckpointEvaluated evaluation, Instant at, UUID eventId) {
        boolean isNewerThan(Scored other) {
            int byTime = at.compareTo(other.at);
            return byTime != 0 ? byTime > 0 : eventId.compareTo(other.eventId) > 0;
        }
    }
}
