package dev.tuneloop.contracts;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How a topic is created: name, partition count and topic-level configs ({@code cleanup.policy}, {@code retention.ms},
 * ...). The replication factor is left to the environment (1 in tests, 3 in a cluster).
 */
public record TopicSpec(String name, int partitions, Map<String, String> config) {
    private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    public TopicSpec {
        if (name == null || !KAFKA_TOPIC.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "TopicSpec.name must be 1-249 characters of [a-zA-Z0-9._-], got " + Check.quote(name));
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("TopicSpec " + name + ": partitions must be >= 1, got " + partitions);
        }
        Check.present("TopicSpec", "config", config);
        config = Collections.unmodifiableMap(new TreeMap<>(config));
    }
}
