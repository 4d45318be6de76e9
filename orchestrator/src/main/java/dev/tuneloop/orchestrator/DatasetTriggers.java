package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.MinioNotification;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.state.Promotion;
import dev.tuneloop.orchestrator.state.RunRegistry;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a run for every object created under a watched {@code bucket/prefix}. The run id derives from the object's
 * bucket, key and eTag ({@link MinioNotification.ObjectEvent#derivedRunId()}), and an id the registry already knows
 * (requested, or deleted) starts nothing: a redelivered notification, before or after a restart, is a no-op as long
 * as the registry was rebuilt first.
 */
public final class DatasetTriggers {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetTriggers.class);

    /**
     * @param evalDataUri the eval set of the triggered runs
     * @param fromPromoted start from the promoted adapter instead of a fresh LoRA
     */
    public record Trigger(String modelId, String modelRevision, String evalDataUri, boolean fromPromoted,
            HyperParameters hyperParameters) {}

    private final Map<String, Trigger> byPrefix;
    private final RunRegistry registry;
    private final RunCommands commands;
    private final String servedModel;

    /** @param byPrefix {@code bucket/prefix} → the run to start */
    public DatasetTriggers(Map<String, Trigger> byPrefix, RunRegistry registry, RunCommands commands,
            String servedModel) {
        this.byPrefix = new TreeMap<>(byPrefix);
        this.registry = registry;
        this.commands = commands;
        this.servedModel = servedModel;
    }

    public static <T> Map<String, Trigger> from(Map<String, T> config, Function<T, Trigger> convert) {
        Map<String, Trigger> out = new TreeMap<>();
        config.forEach((prefix, trigger) -> out.put(prefix, convert.apply(trigger)));
        return out;
    }

    /** Handles one notification; returns the ids of the runs it requested. */
    public List<String> on(MinioNotification notification) {
        return notification.records().stream()
                .map(this::on)
                .flatMap(Optional::stream)
                .toList();
    }

    private Optional<String> on(MinioNotification.ObjectEvent object) {
        String path = object.bucket() + "/" + object.objectKey();
        if (!object.objectCreated() || object.eTag() == null || object.objectKey().endsWith("/")) {
            return Optional.empty();
        }
        Optional<Map.Entry<String, Trigger>> match = byPrefix.entrySet().stream()
                .filter(e -> path.startsWith(e.getKey()))
                .max(Comparator.comparingInt(e -> e.getKey().length()));
        if (match.isEmpty()) {
            return Optional.empty();
        }
        String runId = object.derivedRunId();
        if (registry.isTaken(runId)) {
            LOG.info("{} (eTag {}) already started run {}; not starting another", path, object.eTag(), runId);
            return Optional.empty();
        }
        Trigger trigger = match.get().getValue();
        String initAdapter = trigger.fromPromoted() ? promotedFolder().orElse(null) : null;
        if (trigger.fromPromoted() && initAdapter == null) {
            LOG.info("nothing is promoted as {}: run {} trains a fresh LoRA", servedModel, runId);
        }
        TrainingRequested request = new TrainingRequested(trigger.modelId(), trigger.modelRevision(),
                "s3://" + path, trigger.evalDataUri(), trigger.hyperParameters(), initAdapter);
        commands.request(runId, request);
        LOG.info("{} created under watched prefix {}: requested run {}", path, match.get().getKey(), runId);
        return Optional.of(runId);
    }

    /** The folder of the promoted adapter: its config file's URI without the file name. */
    private Optional<String> promotedFolder() {
        return registry.promoted(servedModel)
                .map(Promotion::adapter)
                .map(a -> a.files().get(AdapterFiles.CONFIG))
                .map(StoredObject::uri)
                .map(uri -> uri.substring(0, uri.length() - AdapterFiles.CONFIG.length()));
    }
}
