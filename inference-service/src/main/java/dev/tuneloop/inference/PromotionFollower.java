package dev.tuneloop.inference;

import dev.tuneloop.contracts.AdapterPromoted;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the promotions of one served model: a promotion with a higher {@code generation} than any seen is
 * prepared (downloaded, verified, checked against the base model) and then becomes the served snapshot in one atomic
 * step; anything older is ignored. A refused adapter is logged, counted and kept as {@link #lastRefusal()}, and the
 * previous snapshot keeps serving. Called from one thread (the promotions consumer); read from any.
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
    private final MeterRegistry registry;
    private final Clock clock;
    private final AtomicReference<ServedAdapter> current = new AtomicReference<>();
    private final AtomicReference<Refusal> lastRefusal = new AtomicReference<>();
    private final Counter swaps;
    private volatile long highestSeen;

    public PromotionFollower(String servedModel, AdapterFetcher fetcher, MeterRegistry registry, Clock clock) {
        this.servedModel = servedModel;
        this.fetcher = fetcher;
        this.registry = registry;
        this.clock = clock;
        this.swaps = Counter.builder("tuneloop.inference.adapter.swaps")
                .description("promoted adapters that became the served one")
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
        ServedAdapter next;
        try {
            next = fetcher.fetch(runId, promotion);
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
        swaps.increment();
        LOG.info("now serving {} as {} (was {})", next.describe(), servedModel,
                previous == null ? "the base model" : previous.describe());
        return Outcome.SWAPPED;
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
