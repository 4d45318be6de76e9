package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.PromotionFollower.Outcome;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Candidates prepared before their promotion, through a real S3 server and the tiny model: a promotion of exactly a
 * prepared candidate's files is served with its objects deleted from S3 (nothing downloaded); other files, an evicted
 * or failed candidate, or prefetch disabled take the cold path; a candidate still preparing is awaited.
 */
class CandidateCacheTest {
    static final String EVAL_SET = "e".repeat(64);
    static StoreAndModel env;
    static ObjectStore store;
    static QaModel model;

    @TempDir
    Path tmp;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CandidateCache cache;

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

    @AfterEach
    void closeCache() {
        if (cache != null) {
            cache.close();
        }
    }

    private PromotionFollower follower(boolean enabled, int max, ExecutorService preparer) {
        AdapterFetcher fetcher = new AdapterFetcher(store, PromotionFollowerTest.RUNS, tmp.resolve("work"), model.lm(),
                64L << 20, Clock.systemUTC());
        CandidateCache.Settings settings = new CandidateCache.Settings(enabled, max);
        cache = preparer == null ? new CandidateCache(fetcher, settings, registry)
                : new CandidateCache(fetcher, settings, registry, preparer);
        return new PromotionFollower("qwen-squad", fetcher, cache, registry, Clock.systemUTC());
    }

    private static Map<String, StoredObject> upload(Path adapter, String prefix) throws Exception {
        return TestModels.upload(store, adapter, prefix, "qwen-squad", 1, 50).files();
    }

    private static AdapterPromoted promotion(long generation, Map<String, StoredObject> files) {
        return new AdapterPromoted("qwen-squad", generation, "checkpoint-" + generation, files, 60.0, EVAL_SET, false,
                Instant.now());
    }

    private void awaitPrepared(Map<String, StoredObject> files) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!cache.isPrepared(files)) {
            assertTrue(System.currentTimeMillis() < deadline, "candidate not prepared after 30 s");
            Thread.sleep(10);
        }
    }

    private double count(String name) {
        return registry.get(name).counter().count();
    }

    /** Deletes the checkpoint folder of {@code files}. */
    private static void delete(Map<String, StoredObject> files) throws Exception {
        String uri = files.get(AdapterFiles.WEIGHTS).uri();
        store.delete(ObjectUri.parse(uri.substring(0, uri.lastIndexOf('/') + 1)));
        for (StoredObject o : files.values()) {
            assertFalse(store.exists(ObjectUri.parse(o.uri())), o.uri());
        }
    }

    @Test
    void aPreparedCandidateIsServedWithoutDownloadingAndTheOldestIsEvicted() throws Exception {
        PromotionFollower follower = follower(true, 2, null);
        Map<String, StoredObject> a = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/r/c1/");
        Map<String, StoredObject> b = upload(TestModels.get().adapterB(), "s3://tuneloop/runs/r/c2/");
        Map<String, StoredObject> c = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/r/c3/");
        assertTrue(follower.considerCandidate("r", "c1", a, 60, EVAL_SET), "the base model serves: a candidate");
        assertTrue(follower.considerCandidate("r", "c2", b, 61, EVAL_SET));
        assertFalse(follower.considerCandidate("r", "c2", b, 61, EVAL_SET), "already held");
        awaitPrepared(a);
        awaitPrepared(b);
        assertTrue(follower.considerCandidate("r", "c3", c, 62, EVAL_SET));
        awaitPrepared(c);
        assertEquals(2, cache.size(), "max-candidates 2");
        assertFalse(cache.isPrepared(a), "the oldest candidate was evicted");
        assertEquals(3.0, count("tuneloop.inference.prefetch.prepared"));

        delete(b);
        assertEquals(Outcome.SWAPPED, follower.offer("r", promotion(1, b)), "served with its objects deleted");
        assertEquals("checkpoint-1", follower.current().promotion().checkpoint());
        assertEquals("s3://tuneloop/runs/r/c2/tuneloop_config.json", follower.current().prompt().source());
        assertEquals(1.0, count("tuneloop.inference.prefetch.hits"));
        assertFalse(cache.isPrepared(b), "a served candidate leaves the cache");

        // the evicted candidate: downloaded on receipt
        assertEquals(Outcome.SWAPPED, follower.offer("r", promotion(2, a)));
        assertEquals(1.0, count("tuneloop.inference.prefetch.misses"));

        // c's files with one sha256 changed: not the candidate, the cold path refuses it
        Map<String, StoredObject> tampered = new TreeMap<>(c);
        StoredObject w = tampered.get(AdapterFiles.WEIGHTS);
        tampered.put(AdapterFiles.WEIGHTS, new StoredObject(w.uri(), "f".repeat(64), w.size()));
        assertEquals(Outcome.REFUSED, follower.offer("r", promotion(3, tampered)));
        assertEquals(AdapterRefusedException.Reason.CHECKSUM, follower.lastRefusal().reason());
        assertEquals(2.0, count("tuneloop.inference.prefetch.misses"));
        assertTrue(cache.isPrepared(c), "the candidate of the exact files is still held");
        delete(c);
        assertEquals(Outcome.SWAPPED, follower.offer("r", promotion(4, c)));
        assertEquals(2.0, count("tuneloop.inference.prefetch.hits"));
        assertEquals(0, cache.size());
    }

    @Test
    void aFailedCandidateIsDroppedAndItsPromotionTakesTheColdPath() throws Exception {
        PromotionFollower follower = follower(true, 2, null);
        Map<String, StoredObject> a = new TreeMap<>(upload(TestModels.get().adapterA(), "s3://tuneloop/runs/f/c1/"));
        StoredObject stored = a.get(AdapterFiles.WEIGHTS);
        ObjectUri weights = ObjectUri.parse("s3://tuneloop/runs/f/c1/not-yet.safetensors");
        a.put(AdapterFiles.WEIGHTS, new StoredObject(weights.toString(), stored.sha256(), stored.size()));
        assertTrue(follower.considerCandidate("f", "c1", a, 60, EVAL_SET));
        long deadline = System.currentTimeMillis() + 30_000;
        while (count("tuneloop.inference.prefetch.failures") < 1) {
            assertTrue(System.currentTimeMillis() < deadline, "the preparation did not fail within 30 s");
            Thread.sleep(10);
        }
        assertEquals(0, cache.size(), "a failed candidate is dropped");
        store.put(weights, TestModels.get().adapterA().resolve(AdapterFiles.WEIGHTS)); // back: the cold path reads it
        assertEquals(Outcome.SWAPPED, follower.offer("f", promotion(1, a)));
        assertEquals(1.0, count("tuneloop.inference.prefetch.misses"));
        assertEquals(0.0, count("tuneloop.inference.prefetch.hits"));
    }

    @Test
    void aPromotionWaitsForItsCandidateStillPreparingInsteadOfDownloadingAgain() throws Exception {
        ExecutorService preparer = Executors.newSingleThreadExecutor();
        CountDownLatch gate = new CountDownLatch(1);
        preparer.execute(() -> {
            try {
                gate.await(); // holds the preparation thread: the candidate queues behind
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        PromotionFollower follower = follower(true, 2, preparer);
        Map<String, StoredObject> a = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/w/c1/");
        assertTrue(follower.considerCandidate("w", "c1", a, 60, EVAL_SET));
        ExecutorService promotions = Executors.newSingleThreadExecutor();
        try {
            Future<Outcome> offered = promotions.submit(() -> follower.offer("w", promotion(1, a)));
            Thread.sleep(500);
            assertFalse(offered.isDone(), "the promotion waits for its candidate");
            assertNull(follower.current());
            gate.countDown();
            assertEquals(Outcome.SWAPPED, offered.get(30, TimeUnit.SECONDS));
        } finally {
            promotions.shutdownNow();
        }
        assertEquals(1.0, count("tuneloop.inference.prefetch.hits"));
        assertEquals(0.0, count("tuneloop.inference.prefetch.misses"), "not downloaded a second time");
        assertEquals(1.0, count("tuneloop.inference.prefetch.prepared"));
    }

    @Test
    void theAdapterServedBeforeStaysPreparedForARollback() throws Exception {
        PromotionFollower follower = follower(true, 1, null);
        Map<String, StoredObject> a = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/k/c1/");
        Map<String, StoredObject> b = upload(TestModels.get().adapterB(), "s3://tuneloop/runs/k/c2/");
        assertEquals(Outcome.SWAPPED, follower.offer("k", promotion(1, a)));
        assertFalse(cache.holdsPrevious(), "the base model served before: nothing to keep");
        assertEquals(Outcome.SWAPPED, follower.offer("k", promotion(2, b)));
        assertTrue(cache.holdsPrevious());
        assertEquals(0, cache.size(), "kept apart from the candidates (max-candidates untouched)");

        delete(a);
        assertEquals(Outcome.SWAPPED, follower.offer("k", promotion(3, a)), "rolled back with A's objects deleted");
        assertEquals("checkpoint-3", follower.current().promotion().checkpoint());
        assertEquals(a, follower.current().promotion().files());
        assertEquals(PromptMode.CONTEXT, follower.current().prompt().mode(), "A's prompt, not B's");
        assertEquals(1.0, count("tuneloop.inference.prefetch.hits"));
        assertTrue(cache.holdsPrevious(), "now B is kept");

        delete(b);
        assertEquals(Outcome.SWAPPED, follower.offer("k", promotion(4, b)), "and forward again without B's objects");
        assertEquals(PromptMode.QUESTION_ONLY, follower.current().prompt().mode());
        assertEquals(2.0, count("tuneloop.inference.prefetch.hits"));
        assertEquals(2.0, count("tuneloop.inference.prefetch.misses"), "only the first two were downloaded");
    }

    @Test
    void disabledPrefetchPreparesNothing() throws Exception {
        PromotionFollower follower = follower(false, 2, null);
        Map<String, StoredObject> a = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/d/c1/");
        Map<String, StoredObject> b = upload(TestModels.get().adapterB(), "s3://tuneloop/runs/d/c2/");
        assertFalse(follower.considerCandidate("d", "c1", a, 60, EVAL_SET));
        assertEquals(0, cache.size());
        assertEquals(Outcome.SWAPPED, follower.offer("d", promotion(1, a)));
        assertEquals(Outcome.SWAPPED, follower.offer("d", promotion(2, b)));
        assertFalse(cache.holdsPrevious(), "nothing kept for a rollback either");
        assertEquals(0.0, count("tuneloop.inference.prefetch.prepared") + count("tuneloop.inference.prefetch.hits"));
    }

    @Test
    void onlyACheckpointThatMayReplaceTheServedAdapterIsACandidate() throws Exception {
        PromotionFollower follower = follower(true, 2, null);
        Map<String, StoredObject> a = upload(TestModels.get().adapterA(), "s3://tuneloop/runs/q/c1/");
        Map<String, StoredObject> b = upload(TestModels.get().adapterB(), "s3://tuneloop/runs/q/c2/");
        assertEquals(Outcome.SWAPPED, follower.offer("q", promotion(1, a))); // f1 60 on EVAL_SET
        ServedAdapter served = follower.current();
        assertFalse(PromotionFollower.worthPreparing(served, b, 59.0, EVAL_SET), "lower f1, same set");
        assertFalse(PromotionFollower.worthPreparing(served, b, 60.0, EVAL_SET), "equal f1");
        assertFalse(PromotionFollower.worthPreparing(served, a, 99.0, EVAL_SET), "the served files themselves");
        assertTrue(PromotionFollower.worthPreparing(served, b, 60.5, EVAL_SET), "higher f1");
        assertTrue(PromotionFollower.worthPreparing(served, b, 10.0, "d".repeat(64)), "another evaluation set");
        assertTrue(PromotionFollower.worthPreparing(null, b, 0.0, EVAL_SET), "the base model serves");
        AdapterPromoted pinned = new AdapterPromoted("qwen-squad", 2, "c1", a, null, null, true, Instant.now());
        assertTrue(PromotionFollower.worthPreparing(pinned(served, pinned), b, 0.0, EVAL_SET), "pinned: no f1");
        assertFalse(follower.considerCandidate("q", "c2", b, 59.0, EVAL_SET));
        assertEquals(0, cache.size());
    }

    private static ServedAdapter pinned(ServedAdapter served, AdapterPromoted promotion) {
        return new ServedAdapter(served.weights(), served.prompt(), promotion, served.runId(), Instant.now());
    }
}
