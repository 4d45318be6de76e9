package dev.tuneloop.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A checkpoint's adapter files are in the object store and verified.
 *
 * @param checkpoint the checkpoint's name, e.g. {@code epoch-0005} or {@code step-000400}
 * @param epoch epoch in which it was saved, from 1
 * @param step optimizer steps completed when it was saved, from 1
 * @param uriPrefix the checkpoint folder, {@code s3://bucket/.../} (ends with '/')
 * @param files file name → stored object, at least {@value AdapterFiles#CONFIG} and {@value AdapterFiles#WEIGHTS},
 *     each at {@code uriPrefix + name}
 * @param adapterConfig the content of {@code adapter_config.json}
 */
public record CheckpointSaved(String checkpoint, int epoch, long step, String uriPrefix,
        Map<String, StoredObject> files, JsonNode adapterConfig) implements EventPayload {
    public CheckpointSaved {
        Check.name("CheckpointSaved", "checkpoint", checkpoint);
        Check.atLeast("CheckpointSaved", "epoch", epoch, 1);
        Check.atLeast("CheckpointSaved", "step", step, 1);
        Check.text("CheckpointSaved", "uriPrefix", uriPrefix);
        if (!uriPrefix.startsWith("s3://") || !uriPrefix.endsWith("/")) {
            throw new IllegalArgumentException(
                    "CheckpointSaved.uriPrefix must be an s3:// folder ending with '/', got " + Check.quote(uriPrefix));
        }
        files = AdapterFiles.require("CheckpointSaved", files, uriPrefix);
        Check.present("CheckpointSaved", "adapterConfig", adapterConfig);
        if (!adapterConfig.isObject()) {
            throw new IllegalArgumentException(
                    "CheckpointSaved.adapterConfig must be a JSON object, got " + adapterConfig.getNodeType());
        }
        adapterConfig = adapterConfig.deepCopy();
    }
}
