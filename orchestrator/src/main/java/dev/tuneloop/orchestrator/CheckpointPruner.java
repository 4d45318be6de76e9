package dev.tuneloop.orchestrator;

import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StorageException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoint retention: deletes the objects of every saved checkpoint the registry's rule no longer keeps. Only
 * folders inside the run's own folder ({@code s3://<bucket>/<runs-prefix><run id>/...}) are deleted, whatever a
 * {@code CheckpointSaved} claims; a storage failure is logged and retried on the next call.
 */
public final class CheckpointPruner {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointPruner.class);

    private final RunRegistry registry;
    private final ObjectStore store;
    private final String runsPrefix;
    /** Folders deleted (or refused) since start; a restart checks them once more, which is harmless. */
    private final Set<String> done = ConcurrentHashMap.newKeySet();

    public CheckpointPruner(RunRegistry registry, ObjectStore store, String runsPrefix) {
        this.registry = registry;
        this.store = store;
        this.runsPrefix = runsPrefix;
    }

    /** Returns how many objects were deleted. */
    public int prune() {
        int deleted = 0;
        for (String runId : registry.runIds()) {
            for (CheckpointSaved checkpoint : registry.notRetained(runId)) {
                String prefix = checkpoint.uriPrefix();
                if (!done.contains(prefix)) {
                    deleted += prune(runId, checkpoint);
                }
            }
        }
        return deleted;
    }

    private int prune(String runId, CheckpointSaved checkpoint) {
        String prefix = checkpoint.uriPrefix();
        String runFolder = runsPrefix + runId + "/";
        ObjectUri folder;
        try {
            folder = ObjectUri.parse(prefix);
        } catch (IllegalArgumentException e) {
            LOG.warn("not deleting checkpoint {}/{}: {}", runId, checkpoint.checkpoint(), e.getMessage());
            done.add(prefix);
            return 0;
        }
        if (!folder.bucket().equals(store.settings().bucket()) || !folder.key().startsWith(runFolder)
                || folder.key().equals(runFolder) || !folder.isFolder()) {
            LOG.warn("not deleting checkpoint {}/{} at {}: it is not a folder inside s3://{}/{}", runId,
                    checkpoint.checkpoint(), prefix, store.settings().bucket(), runFolder);
            done.add(prefix);
            return 0;
        }
        try {
            int deleted = store.delete(folder);
            done.add(prefix);
            LOG.info("retention: deleted {} objects of checkpoint {}/{} at {}", deleted, runId,
                    checkpoint.checkpoint(), prefix);
            return deleted;
        } catch (StorageException e) {
            LOG.warn("retention: cannot delete checkpoint {}/{} yet: {}", runId, checkpoint.checkpoint(),
                    e.getMessage());
            return 0;
        }
    }
}
