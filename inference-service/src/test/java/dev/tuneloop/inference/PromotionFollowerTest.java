package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.AdapterRefusedException.Reason;
import dev.tuneloop.inference.PromotionFollower.Outcome;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.storage.CuttableProxy;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.RetryPolicy;
import dev.tuneloop.storage.StoragePolicy;
import dev.tuneloop.storage.StorageSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Promotions through a real S3 server: newer generations swap in; a bad adapter (checksum, shape, missing file) is
 * refused, counted and named while the previous one keeps serving; older generations and other models are ignored;
 * a request accepted during a preparation waits for it up to the swap hold.
 */
class PromotionFollowerTest {
    static final StoragePolicy RUNS = StoragePolicy.of("tuneloop", "runs/");
    static StoreAndModel env;
    static ObjectStore store;
    static QaModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        env = StoreAndModel.start();
        store = env.store();
        model = env.model();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @Test
    void newerGenerationsSwapAndBadAdaptersAreRefusedWhileThePreviousOneServes() throws Exception {
        TestModels.Models models = TestModels.get();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AdapterFetcher fetcher = new AdapterFetcher(store, RUNS, tmp.resolve("work"), model.lm(), 64L << 20,
                Clock.systemUTC());
        PromotionFollower follower = new PromotionFollower("qwen-squad", fetcher, registry, Clock.systemUTC());
        assertNull(follower.current(), "nothing promoted yet");

        AdapterPromoted a = TestModels.upload(store, models.adapterA(), "s3://tuneloop/runs/run-a/ckpt-1/",
                "qwen-squad", 1, 71.5);
        assertEquals(Outcome.SWAPPED, follower.offer("run-a", a));
        ServedAdapter servedA = follower.current();
        assertEquals("run-a", servedA.runId());
        assertEquals(PromptMode.CONTEXT, servedA.prompt().mode(), "adapter A has no tuneloop_config.json: defaults");
        assertTrue(Files.notExists(tmp.resolve("work")) || Files.list(tmp.resolve("work")).findAny().isEmpty(),
                "download folders are removed once the adapter is in memory");

        AdapterPromoted b = TestModels.upload(store, models.adapterB(), "s3://tuneloop/runs/run-b/ckpt-2/",
                "qwen-squad", 2, 80.0);
        Map<String, StoredObject> tampered = new TreeMap<>(b.files());
        StoredObject weights = tampered.get(AdapterFiles.WEIGHTS);
        tampered.put(AdapterFiles.WEIGHTS, new StoredObject(weights.uri(), "f".repeat(64), weights.size()));
        refused(follower, "run-b", TestModels.promotion("qwen-squad", 2, tampered, 80.0), Reason.CHECKSUM,
                "f".repeat(64), servedA);

        AdapterPromoted wide = TestModels.upload(store, models.wrongShape(), "s3://tuneloop/runs/run-w/ckpt-3/",
                "qwen-squad", 3, 90.0);
        refused(follower, "run-w", wide, Reason.DOES_NOT_FIT, "has shape", servedA);

        Map<String, StoredObject> missing = new TreeMap<>(b.files());
        missing.put(AdapterFiles.WEIGHTS, new StoredObject("s3://tuneloop/runs/run-b/gone.safetensors",
                weights.sha256(), weights.size()));
        refused(follower, "run-b", TestModels.promotion("qwen-squad", 4, missing, 80.0), Reason.MISSING_FILE,
                "gone.safetensors", servedA);

        // weights read in memory: bytes that are not safetensors (stored with their own sha256), a size that lies
        ObjectUri garbageUri = ObjectUri.parse("s3://tuneloop/runs/run-g/ckpt-9/adapter_model.safetensors");
        StoredObject garbage = store.putBytes(garbageUri, "not a safetensors file".getBytes(StandardCharsets.UTF_8));
        Map<String, StoredObject> notSafetensors = new TreeMap<>(b.files());
        notSafetensors.put(AdapterFiles.WEIGHTS, garbage);
        refused(follower, "run-g", TestModels.promotion("qwen-squad", 5, notSafetensors, 80.0), Reason.BAD_CONFIG,
                garbageUri + ": header length", servedA);
        Map<String, StoredObject> wrongSize = new TreeMap<>(b.files());
        wrongSize.put(AdapterFiles.WEIGHTS, new StoredObject(weights.uri(), weights.sha256(), weights.size() + 1));
        refused(follower, "run-b", TestModels.promotion("qwen-squad", 6, wrongSize, 80.0), Reason.SIZE,
                "the promotion says " + (weights.size() + 1), servedA);

        assertEquals(Outcome.NOT_NEWER, follower.offer("run-b", TestModels.promotion("qwen-squad", 4, b.files(), 80)));
        assertEquals(Outcome.OTHER_MODEL, follower.offer("run-b", TestModels.promotion("other", 9, b.files(), 80)));
        assertSame(servedA, follower.current());

        assertEquals(Outcome.SWAPPED, follower.offer("run-b", TestModels.promotion("qwen-squad", 7, b.files(), 80)));
        ServedAdapter servedB = follower.current();
        assertEquals(7, servedB.generation());
        assertEquals(PromptMode.QUESTION_ONLY, servedB.prompt().mode(), "the prompt comes from B's saved config");
        assertEquals(384, servedB.prompt().maxSeqLen());

        assertEquals(2.0, follower.swaps());
        assertEquals(5.0, follower.failedSwaps());
        for (String reason : new String[] {"checksum", "does_not_fit", "missing_file", "bad_config", "size"}) {
            assertEquals(1.0, registry.get("tuneloop.inference.adapter.swap.failures").tag("reason", reason)
                    .counter().count(), reason);
        }
        assertEquals(7.0, registry.get("tuneloop.inference.adapter.generation").gauge().value());
    }

    @Test
    void aRequestAcceptedWhileAPromotionIsPreparedWaitsForItUpToTheHold() throws Exception {
        TestModels.Models models = TestModels.get();
        AdapterPromoted a = TestModels.upload(store, models.adapterA(), "s3://tuneloop/runs/run-h/ckpt-1/",
                "qwen-squad", 1, 71.5);
        AdapterPromoted b = TestModels.upload(store, models.adapterB(), "s3://tuneloop/runs/run-h/ckpt-2/",
                "qwen-squad", 2, 80.0);
        StorageSettings direct = env.s3().settings("tuneloop");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ExecutorService consumer = Executors.newSingleThreadExecutor();
        try (CuttableProxy proxy = CuttableProxy.to(env.s3().port());
                ObjectStore slow = new ObjectStore(new StorageSettings(proxy.endpoint(), direct.accessKey(),
                        direct.secretKey(), direct.region(), "tuneloop"),
                        new RetryPolicy(8, Duration.ofMillis(200), Duration.ofMillis(500)))) {
            AdapterFetcher fetcher = new AdapterFetcher(slow, RUNS, tmp.resolve("work"), model.lm(), 64L << 20,
                    Clock.systemUTC());
            PromotionFollower follower = new PromotionFollower("qwen-squad", fetcher, registry, Clock.systemUTC());
            assertNull(follower.currentForRequest(Duration.ofSeconds(5)), "nothing promoted or prepared: no wait");
            assertEquals(Outcome.SWAPPED, follower.offer("run-h", a));
            ServedAdapter servedA = follower.current();

            // B's weights request is dropped and S3 cut off for 1.5 s: the preparation retries meanwhile, as against a
            // flaky S3
            proxy.cutBeforeSent("GET /tuneloop/runs/run-h/ckpt-2/" + AdapterFiles.WEIGHTS, Duration.ofMillis(1500));
            Future<Outcome> swap = consumer.submit(() -> follower.offer("run-h", b));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (proxy.cutAt() == null) {
                assertTrue(System.nanoTime() < deadline, "B's weights were never requested");
                Thread.sleep(1);
            }
            assertTrue(follower.preparing(), "B is being prepared");
            long t0 = System.nanoTime();
            assertSame(servedA, follower.currentForRequest(Duration.ofMillis(100)),
                    "a preparation longer than the hold: bound to the adapter still served");
            double waitedMs = (System.nanoTime() - t0) / 1e6;
            assertTrue(waitedMs >= 100 && waitedMs < 1400, "waited the hold, not the preparation: " + waitedMs + " ms");
            assertSame(servedA, follower.currentForRequest(Duration.ZERO), "a zero hold never waits");

            ServedAdapter bound = follower.currentForRequest(Duration.ofSeconds(30));
            assertEquals(2, bound.generation(), "a request accepted after B's promotion was received is bound to B");
            assertEquals(Outcome.SWAPPED, swap.get(30, TimeUnit.SECONDS));
            assertSame(follower.current(), bound);
            assertFalse(follower.preparing());
            assertEquals(2, registry.get("tuneloop.inference.swap.hold").timer().count(),
                    "the two requests that waited are timed; the one with a zero hold is not");
        } finally {
            consumer.shutdownNow();
        }
    }

    @Test
    void anAdapterLargerThanTheLimitIsNotDownloaded() throws Exception {
        AdapterFetcher fetcher = new AdapterFetcher(store, RUNS, tmp.resolve("work"), model.lm(), 100, Clock.systemUTC());
        PromotionFollower follower = new PromotionFollower("qwen-squad", fetcher, new SimpleMeterRegistry(),
                Clock.systemUTC());
        AdapterPromoted a = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/big/ckpt-1/",
                "qwen-squad", 1, 71.5);
        refused(follower, "big", a, Reason.TOO_LARGE, "max-adapter-bytes 100", null);
    }

    @Test
    void adapterFilesOutsideTheBucketsRunsPrefixAreRefusedUnread() throws Exception {
        AdapterFetcher fetcher = new AdapterFetcher(store, RUNS, tmp.resolve("work"), model.lm(), 64L << 20,
                Clock.systemUTC());
        PromotionFollower follower = new PromotionFollower("qwen-squad", fetcher, new SimpleMeterRegistry(),
                Clock.systemUTC());
        AdapterPromoted a = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/run-p/ckpt-1/",
                "qwen-squad", 1, 71.5);
        long generation = 0;
        for (String elsewhere : new String[] {"s3://tuneloop/datasets/", "s3://other-bucket/runs/"}) {
            Map<String, StoredObject> moved = new TreeMap<>();
            a.files().forEach((name, o) -> moved.put(name, new StoredObject(elsewhere + name, o.sha256(), o.size())));
            refused(follower, "run-p", TestModels.promotion("qwen-squad", ++generation, moved, 71.5),
                    Reason.NOT_ALLOWED, "location '" + elsewhere, null);
        }
        assertEquals(Outcome.SWAPPED, follower.offer("run-p", TestModels.promotion("qwen-squad", 3, a.files(), 71.5)),
                "the same files under runs/ are served");
    }

    private static void refused(PromotionFollower follower, String run, AdapterPromoted promotion, Reason reason,
            String inMessage, ServedAdapter stillServed) {
        assertEquals(Outcome.REFUSED, follower.offer(run, promotion));
        PromotionFollower.Refusal refusal = follower.lastRefusal();
        assertEquals(reason, refusal.reason(), refusal.message());
        assertEquals(promotion.generation(), refusal.generation());
        assertTrue(refusal.message().contains(inMessage), refusal.message());
        assertSame(stillServed, follower.current(), "the previous adapter keeps serving");
    }
}
