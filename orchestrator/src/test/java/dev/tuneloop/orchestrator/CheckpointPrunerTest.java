package dev.tuneloop.orchestrator;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.evaluated;
import static dev.tuneloop.orchestrator.Events.event;
import static dev.tuneloop.orchestrator.Events.saved;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.S3ProxyServer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CheckpointPrunerTest {
    private S3ProxyServer s3;
    private ObjectStore store;
    private final RunRegistry registry = new RunRegistry(1);

    @BeforeEach
    void startS3() throws Exception {
        s3 = S3ProxyServer.startInMemory();
        store = new ObjectStore(s3.settings("tuneloop"));
        store.ensureBucket();
    }

    @AfterEach
    void stopS3() {
        store.close();
        s3.close();
    }

    private void put(String key) throws Exception {
        store.putBytes(store.uri(key), new byte[] {1, 2, 3});
    }

    private int count(String folder) throws Exception {
        return store.list(store.uri(folder)).size();
    }

    @Test
    void theObjectsOfCheckpointsTheRuleDropsAreDeletedOnce() throws Exception {
        double[] f1 = {50, 80, 60};
        for (int i = 1; i <= 3; i++) {
            String c = "c" + i;
            put("runs/r1/checkpoints/" + c + "/adapter_config.json");
            put("runs/r1/checkpoints/" + c + "/adapter_model.safetensors");
            registry.apply(event("r1", saved("r1", c, i, i * 10L)));
            registry.apply(event("r1", evaluated(c, f1[i - 1], EVAL_SET_A)));
        }
        put("runs/r1/report.html");
        CheckpointPruner pruner = new CheckpointPruner(registry, store, "runs/");

        // Keep the last 1 (c3) and the best (c2): c1 goes.
        assertEquals(2, pruner.prune());
        assertEquals(0, count("runs/r1/checkpoints/c1/"));
        assertEquals(2, count("runs/r1/checkpoints/c2/"));
        assertEquals(2, count("runs/r1/checkpoints/c3/"));
        assertEquals(1, count("runs/r1/report.html"));
        assertEquals(0, pruner.prune(), "nothing more to delete");
    }

    @Test
    void aCheckpointClaimingAFolderOutsideItsRunIsNeverDeleted() throws Exception {
        put("datasets/squad/adapter_config.json");
        put("datasets/squad/adapter_model.safetensors");
        put("datasets/squad/train.jsonl");
        String foreign = "s3://tuneloop/datasets/squad/";
        registry.apply(event("r2", new CheckpointSaved("c1", 1, 10, foreign, Events.files(foreign),
                JsonNodeFactory.instance.objectNode())));
        registry.apply(event("r2", evaluated("c1", 10, EVAL_SET_A)));
        registry.apply(event("r2", saved("r2", "c2", 2, 20)));
        registry.apply(event("r2", evaluated("c2", 90, EVAL_SET_A)));
        assertEquals(List.of("c1"), registry.notRetained("r2").stream().map(CheckpointSaved::checkpoint).toList());

        assertEquals(0, new CheckpointPruner(registry, store, "runs/").prune());
        assertEquals(3, count("datasets/squad/"));
    }
}
