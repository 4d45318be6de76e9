package dev.tuneloop.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.KvCache;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.train.AdamW;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tuneloop bench model}: training and inference speed of the model core on a randomly initialised model with a
 * real config's shapes, by a fixed protocol so numbers compare across changes (see docs/benchmarks.md): fp32, threads =
 * cores, median of the timed repetitions after warm-up, peak RSS = VmHWM. One line per figure on stdout, then a last
 * line of JSON; progress on stderr.
 */
final class ModelBench {
    private static final Logger LOG = LoggerFactory.getLogger(ModelBench.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long SEED = 1234;
    private static final int GEMM_N = 1024;

    /** The sizes of one run: the full protocol, or a smoke run on a tiny model. */
    record Workload(int batch, int seqLen, int labelsPerRow, int warmup, int steps, int gemmReps, int prefillTokens,
            int decodePrompt, int decodeNew, int copyMiB) {
        static final Workload FULL = new Workload(4, 256, 64, 1, 5, 10, 256, 64, 128, 512);
        static final Workload QUICK = new Workload(2, 32, 8, 0, 1, 3, 16, 8, 8, 16);

        int tokens() {
            return batch * seqLen;
        }

        int labelTokens() {
            return batch * labelsPerRow;
        }
    }

    private ModelBench() {}

    /**
     * {@code bench memory}: peak RSS (VmHWM) of training steps on Qwen2.5-0.5B shapes with activation recomputation,
     * LoRA r=8 on all seven projections, batch 4 × 384 by default (the memory target: under 12 GB).
     */
    public static int memory(String[] argv) throws Exception {
        Args args = new Args("bench memory", argv, Set.of());
        Path configPath = args.path("config", defaultConfig());
        int batchSize = args.integer("batch", 4);
        int seqLen = args.integer("seq", 384);
        int steps = args.integer("steps", 2);
        args.finish();
        Qwen2Config config = readConfig(configPath);
        Workload w = new Workload(batchSize, seqLen, 64, 0, steps, 1, 0, 0, 0, 0);
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(Runtime.getRuntime().availableProcessors());
        try (Qwen2ForCausalLM lm = Qwen2Weights.random(config, Device.cpu(), SEED, 0.02)) {
            System.out.printf("peak RSS after loading the model: %.2f GiB%n", peakRssGiB());
            LoraAdapter.initialize(lm, LoraConfig.of(8, 16, 0.05, LoraConfig.ALL_MODULES), SEED);
            TokenBatch batch = trainingBatch(config, w);
            AdamW adamW = new AdamW(LoraAdapter.parameters(lm), 0.01, lm.manager());
            double[] times = timed(0, steps, "train step (recompute=true, " + batchSize + " x " + seqLen + ")",
                    () -> trainStep(lm, batch, adamW, true));
            System.out.printf("train step (recompute=true, batch %d x %d): median %.1f s%n", batchSize, seqLen,
                    median(times));
        }
        double peak = peakRssGiB();
        System.out.printf("peak RSS (VmHWM) training batch %d x %d with recompute: %.2f GiB%n", batchSize, seqLen, peak);
        System.out.printf("{\"batch\":%d, \"seq_len\":%d, \"peak_rss_gb\":%.3f}%n", batchSize, seqLen,
                peak * 1.073741824);
        return 0;
    }

    public static int run(String[] argv) throws Exception {
        Args args = new Args("bench model", argv, Set.of("quick"));
        boolean quick = args.flag("quick");
        boolean hasConfig = args.has("config");
        Path configPath = hasConfig ? args.path("config") : defaultConfig();
        args.finish();
        if (!args.positional().isEmpty()) {
            throw new Args.UsageException("bench model: unexpected argument '" + args.positional().get(0) + "' (usage: "
                    + BenchCommand.USAGE + ")");
        }
        if (quick && hasConfig) {
            throw new Args.UsageException("bench model: --quick runs a built-in tiny model; it takes no --config");
        }
        Qwen2Config config = quick ? tinyConfig() : readConfig(configPath);
        Workload w = quick ? Workload.QUICK : Workload.FULL;

        int cores = Runtime.getRuntime().availableProcessors();
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(cores);
        System.out.printf("machine: %d cores, %d PyTorch threads, load average at start %s%n", cores,
                JniUtils.getNumThreads(), loadAverage());
        System.out.printf("model: %s (%d layers, hidden %d, intermediate %d, vocab %d), random weights, fp32%n",
                quick ? "built-in tiny config" : configPath, config.numHiddenLayers(), config.hiddenSize(),
                config.intermediateSize(), config.vocabSize());

        // Machine rates before and after the model phases; the better of the two is the denominator, so that a
        // burst of load from other processes during one measurement does not inflate the fractions.
        double gemmBefore = gemmFlopsPerSecond(w);
        double torchCopyBefore = torchCopyBandwidth(w);
        double flops = 4.0 * layerMatrixParams(config) * w.tokens()
                + 4.0 * config.hiddenSize() * config.vocabSize() * w.labelTokens();
        double[] steps;
        double[] stepsRecompute;
        double decodeTokensPerS;
        double weightBytes;
        double peakRss;
        try (Qwen2ForCausalLM lm = Qwen2Weights.random(config, Device.cpu(), SEED, 0.02)) {
            LoraAdapter.initialize(lm, LoraConfig.of(8, 16, 0.05, LoraConfig.ALL_MODULES), SEED);
            TokenBatch batch = trainingBatch(config, w);
            AdamW adamW = new AdamW(LoraAdapter.parameters(lm), 0.01, lm.manager());
            // recompute=true first: freed memory is not returned to the OS, so VmHWM can only grow phase by phase
            stepsRecompute = timed(w.warmup(), w.steps(), "train step (recompute=true)",
                    () -> trainStep(lm, batch, adamW, true));
            double rssRecompute = peakRssGiB();
            steps = timed(w.warmup(), w.steps(), "train step (recompute=false)",
                    () -> trainStep(lm, batch, adamW, false));
            peakRss = peakRssGiB();
            System.out.printf("train step FLOPs: %.4g (4 x %d layer matrix parameters x %d tokens + 4 x %d x %d x %d"
                    + " label tokens)%n", flops, layerMatrixParams(config), w.tokens(), config.hiddenSize(),
                    config.vocabSize(), w.labelTokens());
            printTrain("recompute=false", w, steps, flops, peakRss);
            printTrain("recompute=true", w, stepsRecompute, flops, rssRecompute);

            long[] decodePrompt = randomIds(config, w.decodePrompt(), SEED + 1);
            double unmerged = decodeRate(lm, decodePrompt, w);
            LoraAdapter.merge(lm);
            long[] prefillPrompt = randomIds(config, w.prefillTokens(), SEED + 2);
            double prefill = median(timed(1, w.steps(), "prefill", () -> prefillSeconds(lm, prefillPrompt)));
            decodeTokensPerS = decodeRate(lm, decodePrompt, w);
            peakRss = Math.max(peakRss, peakRssGiB());
            weightBytes = 4.0 * weightsReadPerToken(lm);
            System.out.printf("prefill: %.1f tokens/s (%d-token prompt in %.3f s, KV cache, last-position logits)%n",
                    w.prefillTokens() / prefill, w.prefillTokens(), prefill);
            System.out.printf("decode (LoRA merged): %.2f tokens/s (batch 1, %d new tokens after a %d-token prompt,"
                    + " KV cache, EOS ignored)%n", decodeTokensPerS, w.decodeNew(), w.decodePrompt());
            System.out.printf("decode (LoRA unmerged, r 8 on 7 projections): %.2f tokens/s%n", unmerged);
        }

        double gemmAfter = gemmFlopsPerSecond(w);
        double gemm = Math.max(gemmBefore, gemmAfter);
        System.out.printf("GEMM: %.1f GFLOP/s (fp32 %dx%d by %dx%d matmul, median of %d; before %.1f, after %.1f)%n",
                gemm / 1e9, GEMM_N, GEMM_N, GEMM_N, GEMM_N, w.gemmReps(), gemmBefore / 1e9, gemmAfter / 1e9);
        double torchCopyAfter = torchCopyBandwidth(w);
        double javaCopy = javaCopyBandwidth(w);
        double bandwidth = Math.max(javaCopy, Math.max(torchCopyBefore, torchCopyAfter));
        System.out.printf("copy bandwidth: %.1f GB/s (%d MiB, bytes read + written; PyTorch copy before %.1f, after"
                + " %.1f, System.arraycopy %.1f GB/s)%n", bandwidth / 1e9, w.copyMiB(), torchCopyBefore / 1e9,
                torchCopyAfter / 1e9, javaCopy / 1e9);
        double bound = bandwidth / weightBytes;
        double trainTokensPerS = w.tokens() / median(steps);
        double trainFraction = flops / median(steps) / gemm;
        double decodeFraction = decodeTokensPerS / bound;
        System.out.printf("decode bandwidth bound: %.2f tokens/s (%.3f GB of fp32 weights read per token / %.1f GB/s)%n",
                bound, weightBytes / 1e9, bandwidth / 1e9);
        System.out.printf("train_fraction_of_gemm: %.3f (target >= 0.6)%n", trainFraction);
        System.out.printf("decode_fraction_of_bandwidth: %.3f (target >= 0.5)%n", decodeFraction);
        System.out.printf("peak RSS: %.2f GiB (VmHWM of the whole run up to the end of decoding)%n", peakRss);
        System.out.printf("load average at end: %s%n", loadAverage());

        ObjectNode result = JSON.createObjectNode();
        result.put("train_tokens_per_s", round(trainTokensPerS));
        result.put("train_fraction_of_gemm", round(trainFraction));
        result.put("decode_tokens_per_s", round(decodeTokensPerS));
        result.put("decode_fraction_of_bandwidth", round(decodeFraction));
        result.put("peak_rss_gb", round(peakRss));
        System.out.println(JSON.writeValueAsString(result));
        return 0;
    }

    private static void printTrain(String mode, Workload w, double[] steps, double flops, double rss) {
        double seconds = median(steps);
        System.out.printf("train (%s): %.1f tokens/s, %.2f s/step (min %.2f, max %.2f), %.1f GFLOP/s (batch %d x %d"
                + " tokens, labels on the last %d of each row, LoRA r 8 on 7 projections, AdamW + clipping; median of %d"
                + " after %d warm-up), peak RSS %.2f GiB%n", mode, w.tokens() / seconds, seconds,
                Arrays.stream(steps).min().orElse(0), Arrays.stream(steps).max().orElse(0), flops / seconds / 1e9,
                w.batch(), w.seqLen(), w.labelsPerRow(), w.steps(), w.warmup(), rss);
    }

    /** One optimizer step: forward + backward over the batch (mean loss), clipping, AdamW, zeroed gradients. */
    private static double trainStep(Qwen2ForCausalLM lm, TokenBatch batch, AdamW adamW, boolean recompute) {
        long start = System.nanoTime();
        double lossSum = lm.forwardBackward(batch, 1.0 / batch.labelCount(), recompute, SEED);
        double norm = adamW.clipGradNorm(1.0);
        if (Double.isFinite(norm)) {
            adamW.step(2e-4);
        } else {
            LOG.warn("gradient norm {}: update skipped", norm);
            adamW.zeroGrad();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info("loss {}, gradient norm {}", String.format("%.4f", lossSum / batch.labelCount()),
                String.format("%.4f", norm));
        return seconds;
    }

    private static double prefillSeconds(Qwen2ForCausalLM lm, long[] prompt) {
        JniUtils.setGradMode(false);
        long[] mask = new long[prompt.length];
        Arrays.fill(mask, 1);
        try (NDManager m = lm.manager().newSubManager();
                KvCache cache = new KvCache(m, lm.config(), 1, prompt.length)) {
            NDArray ids = m.create(prompt, new Shape(1, prompt.length));
            long start = System.nanoTime();
            NDArray hidden = lm.hidden(ids, mask, cache, false); // (1, T, H)
            lm.logits(hidden.get(":, -1, :")).argMax(1).toLongArray();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /**
     * Decode tokens/s: {@link Generator} runs one prefill step, then {@code decodeNew - 1} single-token steps; the
     * median prefill time of the same prompt is subtracted from the median total.
     */
    private static double decodeRate(Qwen2ForCausalLM lm, long[] prompt, Workload w) {
        Generator generator = new Generator(lm, List.of());
        double total = median(timed(1, w.steps(), "generate " + w.decodeNew() + " tokens", () -> {
            long start = System.nanoTime();
            long[] out = generator.greedy(List.of(prompt), w.decodeNew(), true).get(0);
            if (out.length != w.decodeNew()) {
                throw new IllegalStateException("generated " + out.length + " tokens, expected " + w.decodeNew());
            }
            return (System.nanoTime() - start) / 1e9;
        }));
        double prefill = median(timed(1, w.steps(), "prefill " + prompt.length + " tokens",
                () -> prefillSeconds(lm, prompt)));
        return (w.decodeNew() - 1) / (total - prefill);
    }

    /** FP32 GEMM rate through the same engine and threads. */
    private static double gemmFlopsPerSecond(Workload w) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = m.randomNormal(0f, 1f, new Shape(GEMM_N, GEMM_N), DataType.FLOAT32);
            NDArray b = m.randomNormal(0f, 1f, new Shape(GEMM_N, GEMM_N), DataType.FLOAT32);
            double seconds = median(timed(2, w.gemmReps(), "GEMM", () -> {
                try (NDScope scope = new NDScope()) {
                    long start = System.nanoTime();
                    a.matMul(b);
                    return (System.nanoTime() - start) / 1e9;
                }
            }));
            return 2.0 * GEMM_N * GEMM_N * GEMM_N / seconds;
        }
    }

    /** Bytes read + written per second by a large {@code System.arraycopy} (single-threaded). */
    private static double javaCopyBandwidth(Workload w) {
        int n = w.copyMiB() * (1 << 20) / 4;
        float[] src = new float[n];
        float[] dst = new float[n];
        Arrays.fill(src, 1f);
        Arrays.fill(dst, 0f);
        return 2.0 * 4 * n / median(timed(1, 5, "System.arraycopy", () -> {
            long start = System.nanoTime();
            System.arraycopy(src, 0, dst, 0, n);
            return (System.nanoTime() - start) / 1e9;
        }));
    }

    /** Bytes read + written per second by a large in-place PyTorch copy ({@code b[:] = a}, same threads). */
    private static double torchCopyBandwidth(Workload w) {
        int n = w.copyMiB() * (1 << 20) / 4;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = m.ones(new Shape(n));
            NDArray b = m.zeros(new Shape(n));
            NDIndex all = new NDIndex(":");
            return 2.0 * 4 * n / median(timed(1, 5, "PyTorch copy", () -> {
                long start = System.nanoTime();
                b.set(all, a);
                return (System.nanoTime() - start) / 1e9;
            }));
        }
    }

    /** q, k, v, o, gate, up and down weight elements of all layers. */
    static long layerMatrixParams(Qwen2Config c) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        return c.numHiddenLayers() * (h * q + 2 * h * kv + q * h + 3 * h * c.intermediateSize());
    }

    /** Weight elements one decode step reads: all of them, but the embedding only once when it is the tied head. */
    private static long weightsReadPerToken(Qwen2ForCausalLM lm) {
        long n = 0;
        boolean untied = lm.namedParameters().containsKey("lm_head.weight");
        for (var e : lm.namedParameters().entrySet()) {
            if (!(untied && e.getKey().equals("model.embed_tokens.weight"))) { // a lookup reads ~nothing
                n += e.getValue().getArray().size();
            }
        }
        return n;
    }

    /** Random ids, labels on the last {@code labelsPerRow} positions of each row (the ids themselves, as HF does). */
    private static TokenBatch trainingBatch(Qwen2Config config, Workload w) {
        long[] ids = randomIds(config, w.tokens(), SEED);
        long[] mask = new long[ids.length];
        long[] labels = new long[ids.length];
        Arrays.fill(mask, 1);
        for (int i = 0; i < ids.length; i++) {
            labels[i] = i % w.seqLen() >= w.seqLen() - w.labelsPerRow() ? ids[i] : TokenBatch.IGNORE_INDEX;
        }
        return new TokenBatch(w.batch(), w.seqLen(), ids, mask, labels);
    }

    private static long[] randomIds(Qwen2Config config, int n, long seed) {
        return new SplittableRandom(seed).longs(n, 0, config.vocabSize()).toArray();
    }

    private static double[] timed(int warmup, int reps, String what, DoubleSupplier run) {
        double[] out = new double[reps];
        for (int i = -warmup; i < reps; i++) {
            double seconds = run.getAsDouble();
            LOG.info("{} {} {}: {} s", what, i < 0 ? "warm-up" : "rep", i < 0 ? i + warmup + 1 : i + 1,
                    String.format("%.4f", seconds));
            if (i >= 0) {
                out[i] = seconds;
            }
        }
        return out;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    static Path defaultConfig() {
        return Path.of(System.getProperty("tuneloop.shared.dir", "../shared"), "models", "qwen2.5-0.5b-instruct",
                "config.json");
    }

    static Qwen2Config readConfig(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "--config: no such file");
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode object)) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return Qwen2Config.fromJson(object, file.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Qwen2's structure at toy size (2 layers, hidden 64, vocab 1024) for smoke runs. */
    static Qwen2Config tinyConfig() {
        return new Qwen2Config(1024, 64, 160, 2, 4, 2, 4096, 1e-6, 1e6, true, List.of(2L), "bench-quick");
    }

    /** Peak resident set size so far (VmHWM), GiB. */
    private static double peakRssGiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / (1024.0 * 1024.0); // kB -> GiB
                }
            }
        } catch (IOException | NumberFormatException e) {
            LOG.warn("cannot read VmHWM from /proc/self/status: {}", e.toString());
        }
        return Double.NaN;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
