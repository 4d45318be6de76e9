package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.CancelRequested;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunDeleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.orchestrator.state.RunStatus;
import dev.tuneloop.orchestrator.state.RunView;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StorageException;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run commands: request, cancel, delete, and failing a run whose events are malformed. Each publishes its event
 * and applies it to the registry at once, so a read right after the command sees it.
 */
public final class RunCommands {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommands.class);

    private final RunRegistry registry;
    private final Consumer<EventEnvelope<?>> publish;
    private final ObjectStore store;
    private final String runsPrefix;
    private final String version;
    private final Clock clock;

    public RunCommands(RunRegistry registry, Consumer<EventEnvelope<?>> publish, ObjectStore store, String runsPrefix,
            String version, Clock clock) {
        this.registry = registry;
        this.publish = publish;
        this.store = store;
        this.runsPrefix = runsPrefix;
        this.version = version;
        this.clock = clock;
    }

    /** The outcome of {@link #request}: the run, and whether this call created it. */
    public record Requested(RunView run, boolean created) {}

    /**
     * Requests a run. Repeating a request with the same run id and the same content returns the existing run
     * (idempotent); a different request under a taken id is refused.
     */
    public synchronized Requested request(String runId, TrainingRequested request) {
        if (registry.isDeleted(runId)) {
            throw CommandException.conflict("run " + runId + " was deleted; its id cannot be used again");
        }
        Optional<TrainingRequested> existing = registry.request(runId);
        if (existing.isPresent()) {
            if (existing.get().equals(request)) {
                return new Requested(registry.run(runId).orElseThrow(), false);
            }
            throw CommandException.conflict("run " + runId + " exists with a different request");
        }
        Lineage lineage = new Lineage(null, request.modelId(), request.modelRevision(), version);
        publishAndApply(EventEnvelope.create(runId, lineage, request, clock.instant()));
        LOG.info("requested run {} ({} on {})", runId, request.modelId(), request.trainDataUri());
        return new Requested(registry.run(runId).orElseThrow(), true);
    }

    public synchronized RunView cancel(String runId, String requestedBy, String reason) {
        RunView run = require(runId);
        if (run.status().terminal()) {
            throw CommandException.conflict("run " + runId + " is " + run.status() + "; nothing to cancel");
        }
        if (run.status() != RunStatus.CANCELLING) {
            publishAndApply(event(runId, new CancelRequested(requestedBy, reason)));
        }
        return registry.run(runId).orElseThrow();
    }

    /**
     * Deletes a finished run's objects (everything under its folder) and then the run. A run whose checkpoint is
     * being served is refused: promote another adapter first.
     *
     * @return how many objects were deleted
     */
    public synchronized long delete(String runId, String requestedBy) throws StorageException {
        RunView run = require(runId);
        if (!run.status().terminal()) {
            throw CommandException.conflict("run " + runId + " is " + run.status() + "; cancel it and wait for "
                    + "CANCELLED before deleting it");
        }
        Optional<RunView.Checkpoint> served = run.checkpoints().stream().filter(RunView.Checkpoint::promoted)
                .findFirst();
        if (served.isPresent()) {
            throw CommandException.conflict("checkpoint " + runId + "/" + served.get().name()
                    + " is the promoted adapter; promote another one before deleting the run");
        }
        ObjectUri folder = store.uri(runsPrefix + runId + "/");
        int deleted = store.delete(folder);
        publishAndApply(event(runId, new RunDeleted(requestedBy, deleted)));
        LOG.info("deleted run {} and {} objects under {}", runId, deleted, folder);
        return deleted;
    }

    /** Fails a run because of a malformed event about it, unless it has already ended (or its id is invalid). */
    public synchronized void failRun(String runId, String reason) {
        Optional<RunView> run = registry.run(runId);
        if (run.isPresent() && run.get().status().terminal() || registry.isDeleted(runId)) {
            return;
        }
        try {
            publishAndApply(event(runId, new RunFailed("events", reason)));
        } catch (IllegalArgumentException e) {
            LOG.warn("a malformed record names no valid run ({}): {}", e.getMessage(), reason);
        }
    }

    private RunView require(String runId) {
        return registry.run(runId).orElseThrow(() -> CommandException.notFound("run " + runId + " is unknown"));
    }

    private EventEnvelope<?> event(String runId, EventPayload payload) {
        Lineage lineage = registry.lineage(runId).orElse(Lineage.unknown(version));
        return EventEnvelope.create(runId, lineage, payload, clock.instant());
    }

    private void publishAndApply(EventEnvelope<?> event) {
        publish.accept(Objects.requireNonNull(event));
        registry.apply(event);
    }
}
