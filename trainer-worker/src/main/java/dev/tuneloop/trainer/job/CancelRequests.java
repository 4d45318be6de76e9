package dev.tuneloop.trainer.job;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs someone asked to cancel, with the reason given; filled from the run-events topic, read by running jobs. Run
 * ids are never reused, so nothing is forgotten except the oldest entries beyond a bound. Thread-safe.
 */
public final class CancelRequests {
    private static final int MAX_RUNS = 10_000;

    private final Map<String, String> reasons = new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_RUNS;
        }
    };

    public synchronized void request(String runId, String reason) {
        reasons.putIfAbsent(runId, reason);
    }

    public synchronized Optional<String> reason(String runId) {
        return Optional.ofNullable(reasons.get(runId));
    }
}
