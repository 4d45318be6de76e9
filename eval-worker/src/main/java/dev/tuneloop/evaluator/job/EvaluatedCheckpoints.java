package dev.tuneloop.evaluator.job;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this process has evaluated: checkpoint content (run, name, adapter sha256s) on an eval set id. A redelivered or
 * re-announced checkpoint with the same content on the same eval set is not evaluated again; after a restart it
 * would be, which is harmless (greedy decoding: the same numbers). Bounded; thread-safe.
 */
final class EvaluatedCheckpoints {
    private static final int MAX = 10_000;

    private final Map<String, Boolean> seen = new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > MAX;
        }
    };

    synchronized boolean contains(String key) {
        return seen.containsKey(key);
    }

    synchronized void add(String key) {
        seen.put(key, Boolean.TRUE);
    }
}
