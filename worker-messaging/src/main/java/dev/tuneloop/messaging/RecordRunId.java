package dev.tuneloop.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.RunFailed;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The run a record names even when it does not decode as an event: its header's {@code runId}, else its key (every
 * run topic is keyed by run id). Only a valid run id counts; the lineage is kept where the header still has one.
 */
final class RecordRunId {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REASON = 2000;

    private final String tuneloopVersion;

    RecordRunId(String tuneloopVersion) {
        this.tuneloopVersion = tuneloopVersion;
    }

    /** A {@code RunFailed} for the run {@code record} names, if it names one. */
    Optional<EventEnvelope<RunFailed>> runFailed(ConsumerRecord<String, byte[]> record, String stage, String reason) {
        JsonNode header = header(record.value());
        Lineage lineage = lineage(header.path("lineage"));
        String shortReason = reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "…" : reason;
        for (String candidate : new String[] {header.path("runId").asText(null), record.key()}) {
            if (candidate == null) {
                continue;
            }
            try {
                return Optional.of(EventEnvelope.create(candidate, lineage, new RunFailed(stage, shortReason),
                        Instant.now()));
            } catch (IllegalArgumentException notARunId) {
                // try the next candidate
            }
        }
        return Optional.empty();
    }

    private static JsonNode header(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return JSON.missingNode();
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            return root == null ? JSON.missingNode() : root.path("header");
        } catch (IOException notJson) {
            return JSON.missingNode();
        }
    }

    private Lineage lineage(JsonNode node) {
        try {
            return new Lineage(text(node, "datasetSha256"), text(node, "baseModelId"), text(node, "baseModelRevision"),
                    tuneloopVersion);
        } catch (IllegalArgumentException invalid) {
            return Lineage.unknown(tuneloopVersion);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? value.asText() : null;
    }
}
