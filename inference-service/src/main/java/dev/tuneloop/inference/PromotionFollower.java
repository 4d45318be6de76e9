package dev.tuneloop.inference;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the promotions of one served model: a promotion with a higher {@code generation} than any seen is
 * prepared (downloaded, verified, checked against the base model) and then becomes the served snapshot in one atomic
 * step; anything older is ignored. A refused adapter is logged, counted and kept as {@link #lastRefusal()}, and the
 * previous snapshot keeps serving. A promotion whose exact files were prepared in advance ({@link CandidateCache}) is
 * served from them without downloading. A request accepted while a promotion is being prepared waits a bounded time
 * for it ({@link #currentForRequest}). {@link #offer} is called from one thread (the promotions consumer);
 * {@link #considerCandidate} from another (the checkpoints consumer); read from any.
 */
public final class PromotionFollower {
    private static final Logger LOG = LoggerFactory.getLogger(PromotionFollower.class);

    /** What {@link #offer} did. */
    public enum Outcome {
        SWAPPED, REFUSED, NOT_NEWER, OTHER_MODEL
    }

    /** A promotion that was not served. */
    public record Refusal(long generation, String runId, String checkpoint, AdapterRefusedException.Reason reason,
            String message, Instant at) {}

    private final String servedModel;
    private final AdapterFetcher fetcher;
    private final CandidateCache candidates;
    private final MeterRegistry registry;
    private final Clock clock;
    private final AtomicReference<ServedAdapter> current = new AtomicReference<>();
    private final AtomicReference<Refusal> lastRefusal = new AtomicReference<>();
    private final Counter swaps;
    private final Timer held;
    private volatile long highestSeen;
    private volatile CompletableFuture<Void> preparing = CompletableFuture.completedFuture(null);

    /** Without prefetching: every promotion is prepared on receipt. */
    public PromotionFollower(String servedModel, AdapterFetcher fetcher, MeterRegistry registry, Clock clock) {
        this(servedModel, fetcher, new CandidateCache(fetcher, new CandidateCache.Settings(false, 1), registry),
                registry, clock);
    }

    /** @param candidates adapters prepared before their promotion ({@link #considerCandidate}) */
    public PromotionFollower(String servedModel, AdapterFetcher fetcher, CandidateCache candidates,
            MeterRegistry registry, Clock clock) {
        this.servedModel = servedModel;
        this.fetcher = fetcher;
        this.candidates = candidates;
        this.registry = registry;
        this.clock = clock;
        this.swaps = Counter.builder("tuneloop.inference.adapter.swaps")
                .description("promoted adapters that became the served one")
                .register(registry);
        this.held = Timer.builder("tuneloop.inference.swap.hold")
                .description("time a request accepted during a promotion's preparation waited for it (swap-hold)")
                .register(registry);
        Gauge.builder("tuneloop.inference.adapter.generation", this, f -> f.servedGeneration())
                .description("generation of the served promotion (0: none, the base model serves)")
                .register(registry);
    }

    /** The served model name this follower answers for. */
    public String servedModel() {
        return servedModel;
    }

    /** The promoted adapter now served, or {@code null} while nothing was promoted (the base model serves). */
    public ServedAdapter current() {
        return current.get();
    }

    /**
     * The promoted adapter a request accepted now is bound to: {@link #current()}, after waiting at most
     * {@code maxWait} for a promotion that is being prepared at this moment to be served or refused. So a request
     * that arrives after a promotion was received is answered by the promoted adapter unless its preparation takes
     * longer than {@code maxWait} — and it does not start a batch on the old adapter that the new one would have to
     * wait for (a batch holds one adapter version). {@link Duration#ZERO}: never waits.
     */
    public ServedAdapter currentForRequest(Duration maxWait) {
        CompletableFuture<Void> pending = preparing;
        if (!pending.isDone() && !maxWait.isZero() && !maxWait.isNegative()) {
            long start = System.nanoTime();
            try {
                pending.get(maxWait.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                LOG.debug("a request waited {} for a promotion being prepared; bound to the served adapter", maxWait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // bound to what serves now; the caller sees the interrupt
            } catch (ExecutionException e) {
                throw new AssertionError("the preparation signal is only ever completed normally", e);
            }
            held.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        return current.get();
    }

    /** Whether a promotion is being prepared right now. */
    public boolean preparing() {
        return !preparing.isDone();
    }

    public Refusal lastRefusal() {
        return lastRefusal.get();
    }

    public long servedGeneration() {
        ServedAdapter served = current.get();
        return served == null ? 0 : served.generation();
    }

    /**
     * Serves {@code promotion} if it is for this served model and newer than every promotion seen before (served or
     * refused: a refused generation is not tried again when its record is read again).
     */
    public Outcome offer(String runId, AdapterPromoted promotion) {
        if (!servedModel.equals(promotion.servedModel())) {
            return Outcome.OTHER_MODEL;
        }
        if (promotion.generation() <= highestSeen) {
            LOG.info("ignoring promotion of {}/{} for {}: generation {} is not above {}", runId,
                    promotion.checkpoint(), servedModel, promotion.generation(), highestSeen);
            return Outcome.NOT_NEWER;
        }
        highestSeen = promotion.generation();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        preparing = ended;
        try {
            return prepareAndServe(runId, promotion);
        } finally {
            ended.complete(null); // after the swap: a request let go now is bound to the new snapshot
        }
    }

    private Outcome prepareAndServe(String runId, AdapterPromoted promotion) {
        ServedAdapter next;
        try {
            AdapterFetcher.Prepared prepared = candidates.take(promotion.files());
            if (prepared != null) {
                next = prepared.serve(runId, promotion, clock.instant());
                LOG.info("promotion of {}/{} (generation {}) served from the candidate prepared in advance", runId,
                        promotion.checkpoint(), promotion.generation());
            } else {
                next = fetcher.fetch(runId, promotion);
            }
        } catch (AdapterRefusedException e) {
            // counted first: whoever sees the refusal in GET /v1/adapter sees it counted too
            Counter.builder("tuneloop.inference.adapter.swap.failures")
                    .description("promoted adapters refused (the previous one kept serving)")
                    .tag("reason", e.reason().name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry)
                    .increment();
            lastRefusal.set(new Refusal(promotion.generation(), runId, promotion.checkpoint(), e.reason(),
                    e.getMessage(), clock.instant()));
            ServedAdapter kept = current.get();
            LOG.error("REFUSED promoted adapter ({}): {}; still serving {}", e.reason(), e.getMessage(),
                    kept == null ? "the base model" : kept.describe());
            return Outcome.REFUSED;
        }
        ServedAdapter previous = current.getAndSet(next);
        if (previous != null && !previous.isBase()) { // kept prepared: a rollback to it needs no download
            candidates.keepPrevious(AdapterFetcher.Prepared.of(previous));
        }
        swaps.increment();
        LOG.info("now serving {} as {} (was {})", next.describe(), servedModel,
                previous == null ? "the base model" : previous.describe());
        return Outcome.SWAPPED;
    }

    /**
     * A checkpoint was evaluated: prepares it in advance if it is likely promoted next, i.e. if
     * {@link #worthPreparing} for the adapter served now.
     *
     * @return whether its preparation was started
     */
    public boolean considerCandidate(String runId, String checkpoint, Map<String, StoredObject> files, double f1,
            String evalSetId) {
        ServedAdapter served = current.get();
        if (!worthPreparing(served, files, f1, evalSetId)) {
            LOG.debug("not preparing {}/{} (f1 {}): {} serves", runId, checkpoint, f1,
                    served == null ? "the base model" : served.describe());
            return false;
        }
        return candidates.prepare(runId, checkpoint, files);
    }

    /**
     * A checkpoint evaluated at {@code f1} on {@code evalSetId} may replace {@code served} ({@code null}: the base
     * model) when that has no f1 (pinned), another evaluation set or a lower f1, and is not these very files.
     */
    static boolean worthPreparing(ServedAdapter served, Map<String, StoredObject> files, double f1,
            String evalSetId) {
        if (served == null || served.isBase()) {
            return true;
        }
        AdapterPromoted promotion = served.promotion();
        if (promotion.files().equals(files)) {
            return false;
        }
        return promotion.f1() == null || !evalSetId.equals(promotion.evalSetId()) || promotion.f1() < f1;
    }

    public CandidateCache candidates() {
        return candidates;
    }

    /** Failed swaps over all reasons (the metric is tagged by reason). */
    public double failedSwaps() {
        return registry.find("tuneloop.inference.adapter.swap.failures").counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    public double swaps() {
        return swaps.count();
    }
}
