package dev.tuneloop.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.train.ServingPrompt;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batcher on the tiny model: requests batched together answer exactly as each alone; a swap while requests run
 * fails none and each finishes on the snapshot it was accepted with; a full queue refuses instead of growing.
 */
class BatcherTest {
    static final int NEW_TOKENS = 8;
    static TestModels.Models models;
    static QaModel served;
    static QaModel reference;
    static ServedAdapter base;
    static ServedAdapter adapterA;
    static ServedAdapter adapterB;
    /** Prompts of different lengths (left padding differs per row). */
    static List<long[]> prompts = new ArrayList<>();
    static Map<ServedAdapter, List<long[]>> expected = new ConcurrentHashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        models = TestModels.get();
        served = QaModel.open(models.modelDir(), Device.cpu());
        reference = QaModel.open(models.modelDir(), Device.cpu());
        base = ServedAdapter.base(Instant.now());
        adapterA = snapshot(models.adapterA(), 1);
        adapterB = snapshot(models.adapterB(), 2);
        String[] texts = {"Where is the Seine?", "A much longer question about rivers, bridges and the city of Paris"
                + " that needs more tokens than the others do", "Why?", "Which river flows through Paris, France?"};
        for (String text : texts) {
            prompts.add(served.tokenizer().encode(text));
        }
        // One prompt at a time on a separate model instance: what every batched request must reproduce.
        Generator alone = new Generator(reference.lm(), List.of());
        for (ServedAdapter s : List.of(base, adapterA, adapterB)) {
            if (s.isBase()) {
                LoraAdapter.detach(reference.lm());
            } else {
                LoraAdapter.attach(reference.lm(), s.weights(), false);
            }
            List<long[]> out = new ArrayList<>();
            for (long[] p : prompts) {
                out.add(alone.greedy(p, NEW_TOKENS));
            }
            expected.put(s, out);
        }
        assertFalse(java.util.Arrays.equals(expected.get(adapterA).get(0), expected.get(adapterB).get(0)),
                "adapters A and B must answer differently for the test to mean anything");
        assertFalse(java.util.Arrays.equals(expected.get(base).get(0), expected.get(adapterA).get(0)));
    }

    @AfterAll
    static void tearDown() {
        served.close();
        reference.close();
    }

    static ServedAdapter snapshot(Path dir, long generation) throws Exception {
        return new ServedAdapter(LoraAdapter.read(served.lm(), dir), ServingPrompt.forAdapter(dir),
                TestModels.fakePromotion("qwen-squad", generation), "run-" + generation, Instant.now());
    }

    static Batcher batcher(int maxBatch, Duration wait, int maxQueue) {
        return new Batcher(served.lm(), List.of(), new Batcher.Settings(maxBatch, wait, maxQueue, 100_000),
                new SimpleMeterRegistry());
    }

    @Test
    void requestsArrivingTogetherShareABatchAndAnswerAsEachAlone() throws Exception {
        try (Batcher batcher = batcher(8, Duration.ofMillis(300), 64)) {
            for (ServedAdapter s : List.of(adapterA, base, adapterB)) {
                List<Batcher.Job> jobs = new ArrayList<>();
                for (long[] p : prompts) {
                    jobs.add(batcher.submit(p, NEW_TOKENS, Sampling.GREEDY, s, null));
                }
                for (int i = 0; i < jobs.size(); i++) {
                    Batcher.Completion done = jobs.get(i).result().get(60, TimeUnit.SECONDS);
                    assertEquals(prompts.size(), done.batchSize(), "all four arrived within the wait: one batch");
                    assertSame(s, done.adapter());
                    assertArrayEquals(expected.get(s).get(i), done.tokens(), s.describe() + ", prompt " + i);
                }
            }
        }
    }

    @Test
    void aSwapWhileRequestsRunFailsNoneAndEachFinishesOnItsOwnSnapshot() throws Exception {
        AtomicReference<ServedAdapter> current = new AtomicReference<>(adapterA);
        record Bound(ServedAdapter adapter, int prompt, Future<Batcher.Completion> result) {}
        List<Bound> before = new ArrayList<>();
        List<Bound> after = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try (Batcher batcher = batcher(3, Duration.ofMillis(5), 256)) {
            CountDownLatch swapped = new CountDownLatch(1);
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                senders.add(clients.submit(() -> {
                    for (int k = 0; k < 12; k++) {
                        if (k == 6) {
                            awaitQuietly(swapped);
                        }
                        int p = (thread + k) % prompts.size();
                        ServedAdapter bound = current.get(); // what a request is bound to when accepted
                        Batcher.Job job = batcher.submit(prompts.get(p), NEW_TOKENS, Sampling.GREEDY, bound, null);
                        Bound b = new Bound(bound, p, job.result());
                        synchronized (before) {
                            (k < 6 ? before : after).add(b);
                        }
                    }
                    return null;
                }));
            }
            while (true) { // swap once some requests of A have finished and others still wait or run
                synchronized (before) {
                    if (before.size() == 24 && before.stream().anyMatch(b -> b.result().isDone())) {
                        break;
                    }
                }
                Thread.sleep(1);
            }
            current.set(adapterB);
            swapped.countDown();
            for (Future<?> s : senders) {
                s.get(60, TimeUnit.SECONDS);
            }
            int unfinishedAtSwap = 0;
            for (Bound b : before) {
                unfinishedAtSwap += b.result().isDone() ? 0 : 1;
            }
            for (List<Bound> group : List.of(before, after)) {
                for (Bound b : group) {
                    Batcher.Completion done = b.result().get(120, TimeUnit.SECONDS); // throws if any failed
                    assertSame(b.adapter(), done.adapter(), "a request finishes on the snapshot it was bound to");
                    assertArrayEquals(expected.get(b.adapter()).get(b.prompt()), done.tokens(),
                            b.adapter().describe() + ", prompt " + b.prompt());
                }
            }
            assertTrue(before.stream().allMatch(b -> b.adapter() == adapterA));
            assertTrue(after.stream().allMatch(b -> b.adapter() == adapterB), "requests after the swap use B");
            assertSame(adapterB, batcher.attached());
            System.out.println("swap test: " + unfinishedAtSwap + " of 24 requests bound to A were still queued or"
                    + " running when B became current");
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aFullQueueRefusesAndACancelledRequestStopsEarly() throws Exception {
        try (Batcher batcher = batcher(1, Duration.ZERO, 2)) {
            CountDownLatch inBatch = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Batcher.Job blocking = batcher.submit(prompts.get(0), NEW_TOKENS, Sampling.GREEDY, base, token -> {
                inBatch.countDown();
                awaitQuietly(release);
                return true;
            });
            assertTrue(inBatch.await(30, TimeUnit.SECONDS));
            Batcher.Job queued1 = batcher.submit(prompts.get(1), NEW_TOKENS, Sampling.GREEDY, base, null);
            Batcher.Job queued2 = batcher.submit(prompts.get(2), NEW_TOKENS, Sampling.GREEDY, base, null);
            assertEquals(2, batcher.queued());
            var e = assertThrows(Batcher.OverloadedException.class,
                    () -> batcher.submit(prompts.get(3), NEW_TOKENS, Sampling.GREEDY, base, null));
            assertTrue(e.getMessage().contains("max-queue 2"), e.getMessage());
            queued2.cancel();
            release.countDown();
            assertArrayEquals(expected.get(base).get(0), blocking.result().get(30, TimeUnit.SECONDS).tokens());
            assertArrayEquals(expected.get(base).get(1), queued1.result().get(30, TimeUnit.SECONDS).tokens());
            assertThrows(CancellationException.class, () -> queued2.result().get(30, TimeUnit.SECONDS),
                    "a request cancelled while queued never runs");

            List<Long> seen = new ArrayList<>();
            Batcher.Job stopped = batcher.submit(prompts.get(3), NEW_TOKENS, Sampling.GREEDY, base,
                    token -> seen.add(token) && seen.size() < 3);
            assertArrayEquals(java.util.Arrays.copyOf(expected.get(base).get(3), 3),
                    stopped.result().get(30, TimeUnit.SECONDS).tokens(), "a sink ends its request after 3 tokens");
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
