package dev.tuneloop.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.AdapterFetcher;
import dev.tuneloop.inference.Batcher;
import dev.tuneloop.inference.CandidateCache;
import dev.tuneloop.inference.PromotionFollower;
import dev.tuneloop.inference.ServedAdapter;
import dev.tuneloop.model.generate.Sampling;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.stack.LocalS3;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StoragePolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code tuneloop bench serve}: the inference service's serving core — {@link Batcher} (dynamic batching, the
 * service's default settings), {@link PromotionFollower} and {@link AdapterFetcher} — on a random model with a real
 * config's shapes, adapters fetched from a real S3 server (S3Proxy, in memory) as the service fetches them. HTTP,
 * JSON, tokenisation and Kafka's delivery are left out (prompts are random ids; a promotion counts from its receipt).
 * Workload (docs/benchmarks.md): 64-token prompts, 128 forced new tokens (EOS ignored), tokens/s = completion tokens
 * ÷ wall time, 1 client and 8 concurrent clients; a SQuAD-shaped row; swap time (cold, a rollback to the adapter
 * kept from before, and a candidate prepared in advance by {@link CandidateCache}; measured by {@link SwapProbe}) and
 * RSS around a swap.
 */
final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 4321;

    /** Sizes of one run: the protocol, or a smoke run on the tiny config. */
    record Workload(int prompt, int newTokens, int oneClientRequests, int perClientRequests, int squadPrompt,
            int squadNew, int squadRequests, int swaps) {
        static final Workload FULL = new Workload(64, 128, 3, 2, 200, 16, 3, 5);
        static final Workload QUICK = new Workload(16, 8, 2, 1, 24, 4, 2, 2);
    }

    /** Latencies (s) and completion tokens/s of one phase. */
    record Phase(double[] latencies, double tokensPerSecond) {
        double p50() {
            return percentile(latencies, 50);
        }

        double p95() {
            return percentile(latencies, 95);
        }
    }

    private ServeBench() {}

    public static int run(String[] argv) throws Exception {
        Args args = new Args("bench serve", argv, Set.of("quick"));
        boolean quick = args.flag("quick");
        boolean hasConfig = args.has("config");
        Path configPath = hasConfig ? args.path("config") : ModelBench.defaultConfig();
        int clients = args.integer("clients", 8);
        args.finish();
        if (!args.positional().isEmpty()) {
            throw new Args.UsageException("bench serve: unexpected argument '" + args.positional().get(0)
                    + "' (usage: " + BenchCommand.USAGE + ")");
        }
        if (quick && hasConfig) {
            throw new Args.UsageException("bench serve: --quick runs a built-in tiny model; it takes no --config");
        }
        Qwen2Config config = quick ? ModelBench.tinyConfig() : ModelBench.readConfig(configPath);
        Workload w = quick ? Workload.QUICK : Workload.FULL;
        int cores = Runtime.getRuntime().availableProcessors();
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(cores);
        String loadStart = ModelBench.loadAverage();
        System.out.printf("machine: %d cores, %d PyTorch threads, load average at start %s%n", cores,
                JniUtils.getNumThreads(), loadStart);
        System.out.printf("model: %s (%d layers, hidden %d, vocab %d), random weights, fp32; adapters LoRA r 8 on all"
                + " 7 projections, unmerged; batching: max 8 requests, max wait 10 ms%n",
                quick ? "built-in tiny config" : configPath, config.numHiddenLayers(), config.hiddenSize(),
                config.vocabSize());

        Path work = Files.createTempDirectory("tuneloop-bench-serve");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Qwen2ForCausalLM lm = Qwen2Weights.random(config, Device.cpu(), ModelBench.SEED, 0.02);
                LocalS3 s3 = LocalS3.start(work.resolve("s3"), 0, "tuneloop");
                ObjectStore store = new ObjectStore(s3.settings());
                Batcher batcher = new Batcher(lm, List.of(), new Batcher.Settings(8, Duration.ofMillis(10), 64,
                        16384), registry)) {
            store.ensureBucket();
            LoraConfig lora = LoraConfig.of(8, 16, 0.0, LoraConfig.ALL_MODULES);
            List<Map<String, StoredObject>> adapters = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                adapters.add(uploadAdapter(lm, lora, store, work.resolve("adapter-" + i), i));
            }
            AdapterFetcher fetcher = new AdapterFetcher(store, new StoragePolicy("tuneloop", List.of("bench/"), List.of()),
                    work.resolve("fetch"), lm, 1L << 30,
                    Clock.systemUTC());
            CandidateCache candidates = new CandidateCache(fetcher, new CandidateCache.Settings(true, 2), registry);
            PromotionFollower follower = new PromotionFollower(SwapProbe.SERVED, fetcher, candidates, registry,
                    Clock.systemUTC());
            SwapProbe.offer(follower, adapters.get(0), 1);
            System.out.printf("adapter: %.1f MB of LoRA arrays (%d modules)%n",
                    follower.current().weights().bytes() / 1e6, follower.current().weights().modules().size());

            SplittableRandom random = new SplittableRandom(SEED);
            run(batcher, follower, 1, 1, w.prompt(), 1, random, config); // warm-up
            Phase one = run(batcher, follower, 1, w.oneClientRequests(), w.prompt(), w.newTokens(), random, config);
            report("1 client", one, w.prompt(), w.newTokens());
            Phase many = run(batcher, follower, clients, w.perClientRequests(), w.prompt(), w.newTokens(), random,
                    config);
            report(clients + " clients", many, w.prompt(), w.newTokens());
            double speedup = many.tokensPerSecond() / one.tokensPerSecond();
            System.out.printf("%d clients / 1 client completion tokens/s: %.2fx (target >= 3x)%n", clients, speedup);
            Phase squadOne = run(batcher, follower, 1, w.squadRequests(), w.squadPrompt(), w.squadNew(), random,
                    config);
            report("SQuAD-shaped, 1 client", squadOne, w.squadPrompt(), w.squadNew());
            Phase squadMany = run(batcher, follower, clients, 1, w.squadPrompt(), w.squadNew(), random, config);
            report("SQuAD-shaped, " + clients + " clients", squadMany, w.squadPrompt(), w.squadNew());

            // Cold swaps (files never prepared: each promotion lists a fresh copy) with the smallest request (1-token
            // prompt, 1 new token: the swap itself plus one minimal forward pass) — the headline — then with an
            // 8-token prompt (the probe of the earlier runs, for comparison).
            List<SwapProbe.Swap> swaps = new ArrayList<>();
            List<SwapProbe.Swap> swaps8 = new ArrayList<>();
            long generation = 2;
            Map<String, StoredObject> served = adapters.get(0);
            Map<String, StoredObject> before = null;
            for (int i = 0; i < 2 * w.swaps(); i++) {
                Map<String, StoredObject> files = upload(store, work.resolve("adapter-" + (generation + 1) % 2),
                        "cold-" + generation);
                (i < w.swaps() ? swaps : swaps8).add(SwapProbe.swap(batcher, follower, files, generation++,
                        i < w.swaps() ? 1 : 8, random, config));
                before = served;
                served = files;
            }
            if (registry.get("tuneloop.inference.prefetch.hits").counter().count() != 0) {
                throw new IllegalStateException("a cold swap was served from an adapter prepared in advance");
            }
            // Rollbacks: back to the adapter served before, which the service keeps prepared.
            List<SwapProbe.Swap> rollbacks = new ArrayList<>();
            for (int i = 0; i < w.swaps(); i++) {
                rollbacks.add(SwapProbe.swap(batcher, follower, before, generation++, 1, random, config));
                Map<String, StoredObject> back = before;
                before = served;
                served = back;
            }
            // Prefetched swaps: the candidate is handed over (as a CheckpointEvaluated would) and prepared before
            // its promotion is received.
            List<SwapProbe.Swap> prefetched = new ArrayList<>();
            for (int i = 0; i < w.swaps(); i++) {
                Map<String, StoredObject> files = adapters.get((int) (generation + 1) % 2);
                SwapProbe.prefetch(follower, files, generation);
                prefetched.add(SwapProbe.swap(batcher, follower, files, generation++, 1, random, config));
            }
            double hits = registry.get("tuneloop.inference.prefetch.hits").counter().count();
            if (hits != rollbacks.size() + prefetched.size()) {
                throw new IllegalStateException(rollbacks.size() + " rollbacks and " + prefetched.size()
                        + " prefetched swaps, but " + hits + " promotions were served from a prepared adapter");
            }
            candidates.close();
            double[] totalPrefetched = prefetched.stream().mapToDouble(SwapProbe.Swap::firstResponseMs).toArray();
            double[] total = swaps.stream().mapToDouble(SwapProbe.Swap::firstResponseMs).toArray();
            double[] total8 = swaps8.stream().mapToDouble(SwapProbe.Swap::firstResponseMs).toArray();
            double[] totalRollback = rollbacks.stream().mapToDouble(SwapProbe.Swap::firstResponseMs).toArray();
            List<SwapProbe.Swap> all = new ArrayList<>(swaps);
            all.addAll(swaps8);
            all.addAll(rollbacks);
            all.addAll(prefetched);
            double[] prepared = swaps.stream().mapToDouble(SwapProbe.Swap::preparedMs).toArray();
            double rssRatio = all.stream().mapToDouble(s -> (double) s.rssPeak() / s.rssBefore()).max().orElse(0);
            long rssSteady = all.stream().mapToLong(SwapProbe.Swap::rssBefore).max().orElse(0);
            long rssPeak = all.stream().mapToLong(SwapProbe.Swap::rssPeak).max().orElse(0);
            System.out.printf("swap (receipt -> first response by the new adapter), 1-token probes: median %.0f ms, max"
                    + " %.0f ms over %d swaps (target < 300 ms)%n", percentile(total, 50),
                    Arrays.stream(total).max().orElse(0), swaps.size());
            System.out.printf("swap, 8-token probes: median %.0f ms, max %.0f ms over %d swaps%n",
                    percentile(total8, 50), Arrays.stream(total8).max().orElse(0), swaps8.size());
            System.out.printf("swap, rollback to the previous adapter (kept prepared), 1-token probes: median %.0f ms, max"
                    + " %.0f ms over %d swaps%n", percentile(totalRollback, 50),
                    Arrays.stream(totalRollback).max().orElse(0), rollbacks.size());
            System.out.printf("swap, prefetched candidate, 1-token probes: median %.0f ms, max %.0f ms over %d swaps"
                    + " (target < 300 ms)%n", percentile(totalPrefetched, 50),
                    Arrays.stream(totalPrefetched).max().orElse(0), prefetched.size());
            System.out.printf("of which prepared (download + sha256 + read + shape checks; 1-token swaps): median %.0f"
                    + " ms; the rest is waiting for the request in flight, attaching and the probe's forward pass%n",
                    percentile(prepared, 50));
            System.out.printf("RSS: steady state %.1f MB, peak during a swap %.1f MB, worst ratio %.4f (target <= 1.1)"
                    + "%n", rssSteady / 1e6, rssPeak / 1e6, rssRatio);
            var batches = registry.get("tuneloop.inference.batch.size").summary();
            var attach = registry.get("tuneloop.inference.adapter.attach").timer();
            System.out.printf("batches: %d, mean size %.2f, max %.0f; adapter attach: %d, mean %.1f ms%n",
                    batches.count(), batches.mean(), batches.max(), attach.count(),
                    attach.mean(TimeUnit.MILLISECONDS));
            String loadEnd = ModelBench.loadAverage();
            System.out.printf("load average at end: %s%n", loadEnd);

            ObjectNode result = JSON.createObjectNode();
            result.put("one_client_tokens_per_s", round(one.tokensPerSecond()));
            result.put("one_client_p50_s", round(one.p50()));
            result.put("one_client_p95_s", round(one.p95()));
            result.put("clients", clients);
            result.put("clients_tokens_per_s", round(many.tokensPerSecond()));
            result.put("clients_p50_s", round(many.p50()));
            result.put("clients_p95_s", round(many.p95()));
            result.put("speedup", round(speedup));
            result.put("squad_one_client_p50_s", round(squadOne.p50()));
            result.put("squad_clients_p50_s", round(squadMany.p50()));
            result.put("squad_clients_tokens_per_s", round(squadMany.tokensPerSecond()));
            result.put("swap_ms_p50", round(percentile(total, 50)));
            result.put("swap_ms_max", round(Arrays.stream(total).max().orElse(0)));
            result.put("swap_8_token_probe_ms_p50", round(percentile(total8, 50)));
            result.put("swap_rollback_ms_p50", round(percentile(totalRollback, 50)));
            result.put("swap_prefetched_ms_p50", round(percentile(totalPrefetched, 50)));
            result.put("swap_prepared_ms_p50", round(percentile(prepared, 50)));
            result.put("rss_steady_mb", round(rssSteady / 1e6));
            result.put("rss_swap_peak_mb", round(rssPeak / 1e6));
            result.put("rss_swap_ratio", round(rssRatio));
            result.put("load_average_start", loadStart);
            result.put("load_average_end", loadEnd);
            System.out.println(JSON.writeValueAsString(result));
        } finally {
            deleteTree(work);
        }
        return 0;
    }

    /** {@code clients} threads, each sending {@code requests} requests one after the other. */
    private static Phase run(Batcher batcher, PromotionFollower follower, int clients, int requests, int promptLen,
            int newTokens, SplittableRandom random, Qwen2Config config) throws Exception {
        List<long[]> prompts = new ArrayList<>();
        for (int i = 0; i < clients * requests; i++) {
            prompts.add(random.split().longs(promptLen, 0, config.vocabSize()).toArray());
        }
        double[] latencies = new double[clients * requests];
        AtomicLong tokens = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        int i = client * requests + r;
                        long t0 = System.nanoTime();
                        ServedAdapter bound = follower.currentForRequest(SwapProbe.SWAP_HOLD);
                        long[] out = batcher.submit(prompts.get(i), newTokens, Sampling.GREEDY, bound, null).result()
                                .get().tokens();
                        latencies[i] = (System.nanoTime() - t0) / 1e9;
                        if (out.length != newTokens) {
                            throw new IllegalStateException("generated " + out.length + " tokens, forced "
                                    + newTokens);
                        }
                        tokens.addAndGet(out.length);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return new Phase(latencies, tokens.get() / ((System.nanoTime() - start) / 1e9));
    }

    /** A fresh adapter of {@code lora} saved in {@code dir} and uploaded under {@code s3://tuneloop/bench/<n>/}. */
    private static Map<String, StoredObject> uploadAdapter(Qwen2ForCausalLM lm, LoraConfig lora, ObjectStore store,
            Path dir, int n) throws IOException {
        LoraAdapter.initialize(lm, lora, SEED + n);
        LoraAdapter.save(lm, lora, dir);
        LoraAdapter.detach(lm);
        return upload(store, dir, String.valueOf(n));
    }

    /** The files of {@code dir} uploaded under {@code s3://tuneloop/bench/<prefix>/}. */
    private static Map<String, StoredObject> upload(ObjectStore store, Path dir, String prefix) throws IOException {
        Map<String, StoredObject> files = new TreeMap<>();
        try (var list = Files.list(dir)) {
            for (Path file : list.toList()) {
                String name = file.getFileName().toString();
                files.put(name, store.put(ObjectUri.parse("s3://tuneloop/bench/" + prefix + "/" + name), file));
            }
        }
        return files;
    }

    private static void report(String what, Phase phase, int prompt, int newTokens) {
        System.out.printf("%s (%d-token prompts, %d forced new tokens): %.2f completion tokens/s, latency p50 %.2f s,"
                + " p95 %.2f s (%d requests)%n", what, prompt, newTokens, phase.tokensPerSecond(), phase.p50(),
                phase.p95(), phase.latencies().length);
    }

    /** Nearest-rank percentile. */
    static double percentile(double[] values, double p) {
        double[] s = values.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
