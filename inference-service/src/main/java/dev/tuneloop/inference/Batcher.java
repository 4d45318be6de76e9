package dev.tuneloop.inference;

import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching on one model. Requests wait in a bounded queue, each bound to the {@link ServedAdapter} it was
 * accepted with. One thread — the only user of the model — takes the oldest request, gathers the queued requests
 * bound to the same snapshot (waiting at most {@code maxWait} for more), attaches that snapshot's LoRA arrays if
 * another one is attached (unmerged: the base weights are never touched), and generates for the whole batch in one
 * forward pass per token. So a swap happens between batches, a batch holds one adapter version, and a request
 * finishes on the adapter it started with.
 */
public final class Batcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

    /**
     * @param maxBatchTokens bound on {@code batch × (longest prompt + largest max_tokens)}: the KV cache and the
     *     attention scores grow with it. A single request always fits (its own limits are checked before).
     */
    public record Settings(int maxBatchSize, Duration maxWait, int maxQueue, long maxBatchTokens) {
        public Settings {
            if (maxBatchSize < 1 || maxQueue < 1 || maxBatchTokens < 1 || maxWait.isNegative()) {
                throw new IllegalArgumentException("batching settings must be positive: max-batch-size "
                        + maxBatchSize + ", max-queue " + maxQueue + ", max-batch-tokens " + maxBatchTokens
                        + ", max-wait " + maxWait);
            }
        }
    }

    /** Receives each new token on the batching thread; must not block. */
    @FunctionalInterface
    public interface TokenSink {
        /** @return false to stop generating for this request (a stop sequence was seen, the client went away) */
        boolean accept(long token);
    }

    /** The queue is full: the caller answers 429 with Retry-After. */
    public static final class OverloadedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OverloadedException(String message) {
            super(message);
        }
    }

    /** The batcher stopped (shutdown): the caller answers 503. */
    public static final class StoppedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoppedException(String message) {
            super(message);
        }
    }

    /** A generated continuation; {@code tokens} include the stop id that ended it, if any. */
    public record Completion(long[] tokens, ServedAdapter adapter, int batchSize) {}

    /** A queued or running request. */
    public static final class Job {
        private final long[] prompt;
        private final int maxNewTokens;
        private final Sampling sampling;
        private final ServedAdapter adapter;
        private final TokenSink sink;
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        private final long enqueued = System.nanoTime();
        private volatile boolean cancelled;
        private RuntimeException sinkFailure;

        private Job(long[] prompt, int maxNewTokens, Sampling sampling, ServedAdapter adapter, TokenSink sink) {
            this.prompt = prompt;
            this.maxNewTokens = maxNewTokens;
            this.sampling = sampling;
            this.adapter = adapter;
            this.sink = sink;
        }

        public CompletableFuture<Completion> result() {
            return result;
        }

        public ServedAdapter adapter() {
            return adapter;
        }

        /** Stops this request at the next token (or before it starts); its result fails with a cancellation. */
        public void cancel() {
            cancelled = true;
        }

        private long cost() {
            return (long) prompt.length + maxNewTokens;
        }
    }

    private final Qwen2ForCausalLM lm;
    private final Generator generator;
    private final Settings settings;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Deque<Job> queue = new ArrayDeque<>();
    private final Thread thread;
    private final AtomicReference<ServedAdapter> attached = new AtomicReference<>();
    private volatile boolean running = true;

    private final MeterRegistry registry;
    /** Bound to this instance: removed on {@link #close()}, or a restarted server's gauges would stay bound to this one. */
    private final List<Gauge> gauges;
    private final Counter rejected;
    private final Counter generated;
    private final Counter promptTokens;
    private final DistributionSummary batchSizes;
    private final Timer queueWait;
    private final Timer batchTime;
    private final Timer attachTime;
    private volatile double tokensPerSecond;

    /** @param stopIds generation of a row ends after any of these (EOS ids and the chat turn's end) */
    public Batcher(Qwen2ForCausalLM lm, List<Long> stopIds, Settings settings, MeterRegistry registry) {
        this.lm = lm;
        this.generator = new Generator(lm, stopIds);
        this.settings = settings;
        this.registry = registry;
        this.gauges = List.of(
                Gauge.builder("tuneloop.inference.queue.depth", this, Batcher::queued)
                        .description("requests waiting for a batch").register(registry),
                Gauge.builder("tuneloop.inference.tokens.per.second", this, b -> b.tokensPerSecond)
                        .description("generated tokens per second of the last batch").register(registry));
        rejected = Counter.builder("tuneloop.inference.rejected").tag("reason", "queue_full")
                .description("requests refused because the queue was full").register(registry);
        generated = Counter.builder("tuneloop.inference.generated.tokens")
                .description("tokens generated (rate = tokens/s)").register(registry);
        promptTokens = Counter.builder("tuneloop.inference.prompt.tokens")
                .description("prompt tokens processed").register(registry);
        batchSizes = DistributionSummary.builder("tuneloop.inference.batch.size")
                .description("requests per batch").publishPercentileHistogram().register(registry);
        queueWait = Timer.builder("tuneloop.inference.queue.wait")
                .description("time from accepting a request to its batch starting").publishPercentileHistogram()
                .register(registry);
        batchTime = Timer.builder("tuneloop.inference.batch.duration")
                .description("time to generate one batch").publishPercentileHistogram().register(registry);
        attachTime = Timer.builder("tuneloop.inference.adapter.attach")
                .description("time to attach another snapshot's LoRA arrays between batches").register(registry);
        thread = new Thread(this::loop, "tuneloop-batcher");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues a request bound to {@code adapter}.
     *
     * @throws OverloadedException when {@code maxQueue} requests are already waiting
     * @throws StoppedException after {@link #close()}
     */
    public Job submit(long[] prompt, int maxNewTokens, Sampling sampling, ServedAdapter adapter, TokenSink sink) {
        Job job = new Job(prompt, maxNewTokens, sampling, adapter, sink);
        lock.lock();
        try {
            if (!running) {
                throw new StoppedException("the model server is shutting down");
            }
            if (queue.size() >= settings.maxQueue()) {
                rejected.increment();
                throw new OverloadedException("the request queue is full (max-queue " + settings.maxQueue()
                        + " requests waiting)");
            }
            queue.addLast(job);
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        return job;
    }

    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** The snapshot whose LoRA arrays are on the model now ({@code null} before the first batch). */
    public ServedAdapter attached() {
        return attached.get();
    }

    public boolean isAlive() {
        return thread.isAlive();
    }

    private void loop() {
        while (true) {
            List<Job> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (batch == null) {
                return;
            }
            run(batch);
        }
    }

    /** The oldest request and the queued ones bound to the same snapshot; {@code null} once stopped. */
    private List<Job> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty() && running) {
                arrived.await();
            }
            if (!running) {
                return null;
            }
            List<Job> batch = new ArrayList<>();
            batch.add(queue.pollFirst());
            long deadline = System.nanoTime() + settings.maxWait().toNanos();
            while (true) {
                gather(batch);
                long left = deadline - System.nanoTime();
                if (batch.size() >= settings.maxBatchSize() || left <= 0 || !running) {
                    return batch;
                }
                arrived.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Moves queued jobs of the batch's snapshot into the batch while size and token budget allow. */
    private void gather(List<Job> batch) {
        ServedAdapter adapter = batch.get(0).adapter;
        long longestPrompt = batch.stream().mapToLong(j -> j.prompt.length).max().orElse(0);
        long largestNew = batch.stream().mapToLong(j -> j.maxNewTokens).max().orElse(0);
        for (Iterator<Job> it = queue.iterator(); it.hasNext() && batch.size() < settings.maxBatchSize(); ) {
            Job job = it.next();
            if (job.adapter != adapter) {
                continue;
            }
            long prompt = Math.max(longestPrompt, job.prompt.length);
            long fresh = Math.max(largestNew, job.maxNewTokens);
            if ((batch.size() + 1) * (prompt + fresh) > settings.maxBatchTokens()) {
                continue;
            }
            it.remove();
            batch.add(job);
            longestPrompt = prompt;
            largestNew = fresh;
        }
    }

    private void run(List<Job> jobs) {
        List<Job> batch = new ArrayList<>();
        for (Job job : jobs) {
            if (job.cancelled) {
                job.result.completeExceptionally(new CancellationException("cancelled before its batch started"));
            } else {
                batch.add(job);
                queueWait.record(System.nanoTime() - job.enqueued, TimeUnit.NANOSECONDS);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        ServedAdapter adapter = batch.get(0).adapter;
        long start = System.nanoTime();
        try {
            attach(adapter);
            List<Generator.Row> rows = new ArrayList<>();
            for (Job job : batch) {
                rows.add(new Generator.Row(job.prompt, job.maxNewTokens, job.sampling));
                promptTokens.increment(job.prompt.length);
            }
            List<long[]> out = generator.generate(rows, false, (row, token) -> accept(batch.get(row), token));
            long total = 0;
            for (int i = 0; i < batch.size(); i++) {
                Job job = batch.get(i);
                total += out.get(i).length;
                if (job.sinkFailure != null) {
                    job.result.completeExceptionally(job.sinkFailure);
                } else if (job.cancelled) {
                    job.result.completeExceptionally(new CancellationException("cancelled while generating"));
                } else {
                    job.result.complete(new Completion(out.get(i), adapter, batch.size()));
                }
            }
            long nanos = System.nanoTime() - start;
            generated.increment(total);
            batchSizes.record(batch.size());
            batchTime.record(nanos, TimeUnit.NANOSECONDS);
            tokensPerSecond = nanos == 0 ? 0 : total * 1e9 / nanos;
        } catch (RuntimeException | Error e) {
            LOG.error("a batch of {} request(s) on {} failed: {}", batch.size(), adapter.describe(), e.toString(), e);
            attached.set(null); // unknown state: attach again before the next batch
            for (Job job : batch) {
                job.result.completeExceptionally(e);
            }
        }
    }

    private boolean accept(Job job, long token) {
        if (job.cancelled) {
            return false;
        }
        if (job.sink == null) {
            return true;
        }
        try {
            return job.sink.accept(token);
        } catch (RuntimeException e) {
            job.sinkFailure = e;
            return false;
        }
    }

    private void attach(ServedAdapter adapter) {
        if (attached.get() == adapter) {
            return;
        }
        long start = System.nanoTime();
        if (adapter.isBase()) {
            LoraAdapter.detach(lm);
        } else {
            LoraAdapter.attach(lm, adapter.weights(), false);
        }
        attached.set(adapter);
        attachTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        LOG.debug("attached {}", adapter.describe());
    }

    /** Lets the running batch finish, then fails every queued request with {@link StoppedException}. */
    @Override
    public void close() {
        List<Job> left;
        lock.lock();
        try {
            running = false;
            left = new ArrayList<>(queue);
            queue.clear();
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        for (Job job : left) {
            job.result.completeExceptionally(new StoppedException("the model server is shutting down"));
        }
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        gauges.forEach(registry::remove);
    }
}
