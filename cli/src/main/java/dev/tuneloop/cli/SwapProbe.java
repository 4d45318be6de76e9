package dev.tuneloop.cli;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.Batcher;
import dev.tuneloop.inference.PromotionFollower;
import dev.tuneloop.inference.ServedAdapter;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.qwen2.Qwen2Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** {@code bench serve}'s swap measurement: promotions handed to the follower while a probe client runs. */
final class SwapProbe {
    static final String SERVED = "qwen-squad";
    /** The inference service's default {@code tuneloop.inference.swap-hold}. */
    static final Duration SWAP_HOLD = Duration.ofMillis(500);

    /** One swap: receipt → snapshot prepared (download + verify + read) → first response by it; RSS around it. */
    record Swap(double preparedMs, double firstResponseMs, long rssBefore, long rssPeak) {}

    private SwapProbe() {}

    /**
     * A probe client sends requests for 1 new token after a {@code probeTokens}-token prompt, each bound as the
     * service binds a request ({@link PromotionFollower#currentForRequest} with the default swap hold), one after
     * the other, while a promotion of generation
     * {@code generation} is received and handed to the follower, as the promotions consumer does; the swap ends
     * with the first probe answered by the new snapshot. RSS is sampled every 2 ms from a second before.
     */
    static Swap swap(Batcher batcher, PromotionFollower follower, Map<String, StoredObject> files,
            long generation, int probeTokens, SplittableRandom random, Qwen2Config config) throws Exception {
        long[] probe = random.longs(probeTokens, 0, config.vocabSize()).toArray();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rssPeak = new AtomicLong();
        AtomicLong firstNew = new AtomicLong();
        ServedAdapter old = follower.current();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> sampler = threads.submit(() -> {
                while (!stop.get()) {
                    rssPeak.accumulateAndGet(rssBytes(), Math::max);
                    Thread.sleep(2);
                }
                return null;
            });
            Future<?> prober = threads.submit(() -> {
                while (firstNew.get() == 0) {
                    ServedAdapter bound = follower.currentForRequest(SWAP_HOLD);
                    batcher.submit(probe, 1, Sampling.GREEDY, bound, null).result().get();
                    if (bound != old) {
                        firstNew.set(System.nanoTime());
                    }
                }
                return null;
            });
            Thread.sleep(1000);
            long rssBefore = rssPeak.getAndSet(0);
            long received = System.nanoTime();
            offer(follower, files, generation);
            long prepared = System.nanoTime();
            prober.get(10, TimeUnit.MINUTES);
            stop.set(true);
            sampler.get();
            return new Swap((prepared - received) / 1e6, (firstNew.get() - received) / 1e6, rssBefore, rssPeak.get());
        } finally {
            stop.set(true);
            threads.shutdownNow();
        }
    }

    /** Hands {@code files} over as an evaluated candidate and waits until it is prepared. */
    static void prefetch(PromotionFollower follower, Map<String, StoredObject> files, long generation)
            throws InterruptedException {
        if (!follower.considerCandidate("bench-run", "checkpoint-" + generation, files, 99.0, "0".repeat(64))) {
            throw new IllegalStateException("the candidate of generation " + generation + " was not prepared");
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!follower.candidates().isPrepared(files)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the candidate of generation " + generation
                        + " is not prepared after 5 minutes");
            }
            Thread.sleep(5);
        }
    }

    static void offer(PromotionFollower follower, Map<String, StoredObject> files, long generation) {
        AdapterPromoted promotion = new AdapterPromoted(SERVED, generation, "checkpoint-" + generation, files, 50.0,
                "0".repeat(64), false, Instant.now());
        PromotionFollower.Outcome outcome = follower.offer("bench-run", promotion);
        if (outcome != PromotionFollower.Outcome.SWAPPED) {
            throw new IllegalStateException("promotion of generation " + generation + " was not served: " + outcome
                    + (follower.lastRefusal() != null ? " (" + follower.lastRefusal().message() + ")" : ""));
        }
    }

    /** VmRSS of this process, bytes. */
    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("/proc/self/status has no VmRSS line");
    }
}
