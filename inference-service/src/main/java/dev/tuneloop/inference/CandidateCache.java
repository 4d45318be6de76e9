package dev.tuneloop.inference;

import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.AdapterFetcher.Prepared;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adapters prepared before their promotion: a checkpoint that was evaluated better than the served adapter is likely
 * promoted next, so its files are downloaded, verified and read (the same {@link AdapterFetcher#prepare} as a
 * promotion) on one background thread. At most {@code maxCandidates} are kept (the oldest is evicted), keyed by the
 * exact files map (every file's URI, sha256 and size): a promotion of exactly those files takes its candidate out of
 * the cache, waiting for it if its preparation is still running. A candidate that failed is dropped (the promotion
 * then takes the cold path and is refused or served as before). Besides the candidates, the adapter served before the
 * current one stays prepared ({@link #keepPrevious}), so a rollback to it needs no download either. Thread-safe.
 */
public final class CandidateCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CandidateCache.class);

    /** {@code tuneloop.inference.prefetch.*}. */
    public record Settings(boolean enabled, int maxCandidates) {
        public Settings {
            if (maxCandidates < 1) {
                throw new IllegalArgumentException("tuneloop.inference.prefetch.max-candidates must be at least 1, got "
                        + maxCandidates);
            }
        }
    }

    private record Candidate(String what, CompletableFuture<Prepared> prepared) {}

    private final AdapterFetcher fetcher;
    private final Settings settings;
    private final ExecutorService preparer;
    private final LinkedHashMap<Map<String, StoredObject>, Candidate> candidates = new LinkedHashMap<>();
    private Prepared previous; // the adapter served before the current one, for a rollback
    private final Counter preparedCount;
    private final Counter failures;
    private final Counter hits;
    private final Counter misses;

    /** Prepares on a daemon thread of its own. */
    public CandidateCache(AdapterFetcher fetcher, Settings settings, MeterRegistry registry) {
        this(fetcher, settings, registry, Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tuneloop-prefetch");
            t.setDaemon(true);
            return t;
        }));
    }

    /** @param preparer runs the preparations; closed with this cache */
    public CandidateCache(AdapterFetcher fetcher, Settings settings, MeterRegistry registry, ExecutorService preparer) {
        this.fetcher = fetcher;
        this.settings = settings;
        this.preparer = preparer;
        this.preparedCount = Counter.builder("tuneloop.inference.prefetch.prepared")
                .description("promotion candidates prepared in advance").register(registry);
        this.failures = Counter.builder("tuneloop.inference.prefetch.failures")
                .description("promotion candidates whose preparation failed (dropped)").register(registry);
        this.hits = Counter.builder("tuneloop.inference.prefetch.hits")
                .description("promotions served from a candidate prepared in advance").register(registry);
        this.misses = Counter.builder("tuneloop.inference.prefetch.misses")
                .description("promotions prepared on receipt (no candidate, or it failed)").register(registry);
        Gauge.builder("tuneloop.inference.prefetch.candidates", this, CandidateCache::size)
                .description("candidates held (prepared or preparing)").register(registry);
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Starts preparing checkpoint {@code checkpoint} of {@code runId} unless prefetching is disabled or the same files
     * are already held; evicts the oldest candidate beyond {@code max-candidates}.
     *
     * @return whether a preparation was started
     */
    public synchronized boolean prepare(String runId, String checkpoint, Map<String, StoredObject> files) {
        if (!settings.enabled()) {
            return false;
        }
        Map<String, StoredObject> key = Map.copyOf(files);
        if (candidates.containsKey(key)) {
            return false;
        }
        while (candidates.size() >= settings.maxCandidates()) {
            Iterator<Map.Entry<Map<String, StoredObject>, Candidate>> oldest = candidates.entrySet().iterator();
            Candidate evicted = oldest.next().getValue();
            oldest.remove();
            evicted.prepared().cancel(false);
            LOG.info("prefetch: dropping candidate {} (max-candidates {})", evicted.what(), settings.maxCandidates());
        }
        String what = "candidate " + runId + "/" + checkpoint;
        CompletableFuture<Prepared> prepared = new CompletableFuture<>();
        candidates.put(key, new Candidate(what, prepared));
        preparer.execute(() -> run(key, what, runId, checkpoint, prepared));
        return true;
    }

    private void run(Map<String, StoredObject> key, String what, String runId, String checkpoint,
            CompletableFuture<Prepared> prepared) {
        if (prepared.isDone()) { // evicted before its turn
            return;
        }
        long start = System.nanoTime();
        try {
            Prepared adapter = fetcher.prepare(what, runId, checkpoint, key);
            preparedCount.increment(); // before completing: a promotion waiting for it sees it counted
            if (prepared.complete(adapter)) {
                LOG.info("prefetch: {} prepared in {} ms", what, (System.nanoTime() - start) / 1_000_000);
            } else {
                LOG.info("prefetch: {} prepared in {} ms but evicted meanwhile; dropped", what,
                        (System.nanoTime() - start) / 1_000_000);
            }
        } catch (AdapterRefusedException | RuntimeException e) {
            failures.increment();
            LOG.warn("prefetch: {} could not be prepared in {} ms ({}); a promotion of it will be tried on receipt",
                    what, (System.nanoTime() - start) / 1_000_000, e.getMessage());
            synchronized (this) {
                Candidate held = candidates.get(key);
                if (held != null && held.prepared() == prepared) {
                    candidates.remove(key);
                }
            }
            prepared.completeExceptionally(e);
        }
    }

    /**
     * Holds {@code adapter}, just swapped out, in place of the one held before it (not counted in
     * {@code max-candidates}: one more adapter's host arrays); nothing when prefetching is disabled.
     */
    public synchronized void keepPrevious(Prepared adapter) {
        if (settings.enabled()) {
            previous = adapter;
        }
    }

    /**
     * Takes the candidate of exactly {@code files} out of the cache, waiting while it is being prepared, or else the
     * previous adapter if it has exactly these files; counts a hit, or a miss when there is none or its preparation
     * failed.
     *
     * @return the prepared adapter, or {@code null}: prepare it on receipt
     */
    public Prepared take(Map<String, StoredObject> files) {
        if (!settings.enabled()) {
            return null;
        }
        Candidate candidate;
        synchronized (this) {
            candidate = candidates.remove(files);
            if (candidate == null && previous != null && previous.files().equals(files)) {
                Prepared kept = previous;
                previous = null;
                hits.increment();
                LOG.info("prefetch: {}/{} was served before and kept prepared", kept.runId(), kept.checkpoint());
                return kept;
            }
        }
        if (candidate == null) {
            misses.increment();
            return null;
        }
        long start = System.nanoTime();
        boolean waited = !candidate.prepared().isDone();
        try {
            Prepared prepared = candidate.prepared().get();
            hits.increment();
            if (waited) {
                LOG.info("prefetch: waited {} ms for {} to be prepared", (System.nanoTime() - start) / 1_000_000,
                        candidate.what());
            }
            return prepared;
        } catch (ExecutionException e) {
            misses.increment();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            misses.increment();
            return null;
        }
    }

    /** Whether the candidate of exactly {@code files} is held and prepared. */
    public synchronized boolean isPrepared(Map<String, StoredObject> files) {
        Candidate candidate = candidates.get(files);
        return candidate != null && candidate.prepared().isDone() && !candidate.prepared().isCompletedExceptionally();
    }

    public synchronized int size() {
        return candidates.size();
    }

    /** Whether the adapter served before the current one is held for a rollback. */
    public synchronized boolean holdsPrevious() {
        return previous != null;
    }

    @Override
    public void close() {
        preparer.shutdownNow();
    }
}
