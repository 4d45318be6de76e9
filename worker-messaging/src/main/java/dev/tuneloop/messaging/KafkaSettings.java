package dev.tuneloop.messaging;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * How a worker reaches Kafka.
 *
 * @param bootstrapServers {@code host:port[,host:port]}
 * @param clientId names this worker's clients in broker logs and metrics (e.g. the pod name)
 * @param extra further client properties (security, timeouts), applied last to consumers and producers alike
 */
public record KafkaSettings(String bootstrapServers, String clientId, Map<String, String> extra) {
    public KafkaSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("kafka bootstrap servers must not be blank (set kafka.bootstrap.servers)");
        }
        if (clientId == null || clientId.isBlank()) {
            throw new IllegalArgumentException("kafka client id must not be blank, got '" + clientId + "'");
        }
        extra = Map.copyOf(extra == null ? Map.of() : extra);
    }

    /** Names the extra properties but never prints their values (they may hold SASL credentials or passwords). */
    @Override
    public String toString() {
        return "KafkaSettings[bootstrapServers=" + bootstrapServers + ", clientId=" + clientId + ", extra="
                + new TreeSet<>(extra.keySet()) + "]";
    }

    /** {@code base} with the bootstrap servers, {@code clientId + suffix} and the extra properties on top. */
    public Map<String, Object> properties(Map<String, Object> base, String suffix) {
        Map<String, Object> props = new HashMap<>(base);
        props.put("bootstrap.servers", bootstrapServers);
        props.put("client.id", clientId + suffix);
        props.putAll(extra);
        return props;
    }
}
