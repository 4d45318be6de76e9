package dev.tuneloop.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Everything a fine-tuning run depends on, validated; saved as the run's {@code config.json} and beside every
 * checkpoint ({@code tuneloop_config.json}), prompt template included, so whoever serves an adapter builds the prompt
 * it was trained on.
 *
 * @param saveEveryEpochs checkpoint every N epochs (0 = only the last epoch)
 * @param saveEverySteps  checkpoint every M optimizer steps as well (0 = off)
 * @param evalLimit       evaluate on a fixed seeded sample of this many eval examples (0 = all)
 * @param recompute       recompute layer activations in the backward pass (activation checkpointing): bounded memory
 * @param trainLimit      train on a fixed seeded sample of this many training examples (0 = all)
 * @param initAdapter     a local PEFT adapter folder to start from instead of a fresh LoRA (null = fresh); its
 *                        {@code adapter_config.json} decides the LoRA settings (see {@link #withLoraOf})
 */
public record TrainConfig(
        String model,
        String trainData,
        String evalData,
        int epochs,
        double lr,
        double warmupRatio,
        double weightDecay,
        double maxGradNorm,
        int batchSize,
        int gradAccum,
        int loraR,
        double loraAlpha,
        double loraDropout,
        List<String> targetModules,
        int maxSeqLen,
        int saveEveryEpochs,
        int saveEverySteps,
        int evalLimit,
        int evalMaxNewTokens,
        int evalBatchSize,
        PromptTemplate prompt,
        OnBadRecord onBadRecord,
        long seed,
        boolean recompute,
        int trainLimit,
        String initAdapter) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public TrainConfig {
        targetModules = List.copyOf(targetModules);
        List<String> errors = new ArrayList<>();
        check(errors, model != null && !model.isBlank(), "model", model, "is required");
        check(errors, trainData != null && !trainData.isBlank(), "train", trainData, "is required");
        check(errors, evalData != null && !evalData.isBlank(), "eval", evalData, "is required");
        check(errors, epochs >= 1 && epochs <= 1000, "epochs", epochs, "must be in [1, 1000]");
        check(errors, lr > 0 && lr <= 1, "lr", lr, "must be in (0, 1]");
        check(errors, warmupRatio >= 0 && warmupRatio < 1, "warmup-ratio", warmupRatio, "must be in [0, 1)");
        check(errors, weightDecay >= 0 && weightDecay < 1, "weight-decay", weightDecay, "must be in [0, 1)");
        check(errors, maxGradNorm >= 0 && Double.isFinite(maxGradNorm), "max-grad-norm", maxGradNorm,
                "must be >= 0 (0 = no clipping)");
        check(errors, batchSize >= 1 && batchSize <= 1024, "batch-size", batchSize, "must be in [1, 1024]");
        check(errors, gradAccum >= 1 && gradAccum <= 1024, "grad-accum", gradAccum, "must be in [1, 1024]");
        check(errors, loraR >= 1 && loraR <= 1024, "lora-r", loraR, "must be in [1, 1024]");
        check(errors, loraAlpha > 0 && Double.isFinite(loraAlpha), "lora-alpha", loraAlpha, "must be > 0");
        check(errors, loraDropout >= 0 && loraDropout < 1, "lora-dropout", loraDropout, "must be in [0, 1)");
        check(errors, !targetModules.isEmpty() && LoraConfig.ALL_MODULES.containsAll(targetModules), "target-modules",
                targetModules, "must be a non-empty subset of " + LoraConfig.ALL_MODULES);
        check(errors, maxSeqLen >= 16 && maxSeqLen <= 32768, "max-seq-len", maxSeqLen, "must be in [16, 32768]");
        check(errors, saveEveryEpochs >= 0, "save-every-epochs", saveEveryEpochs, "must be >= 0");
        check(errors, saveEverySteps >= 0, "save-every-steps", saveEverySteps, "must be >= 0");
        check(errors, evalLimit >= 0, "eval-limit", evalLimit, "must be >= 0 (0 = whole eval set)");
        check(errors, evalMaxNewTokens >= 1 && evalMaxNewTokens <= 1024, "eval-max-new-tokens", evalMaxNewTokens,
                "must be in [1, 1024]");
        check(errors, evalBatchSize >= 1 && evalBatchSize <= 256, "eval-batch-size", evalBatchSize,
                "must be in [1, 256]");
        check(errors, trainLimit >= 0, "train-limit", trainLimit, "must be >= 0 (0 = all training examples)");
        check(errors, prompt != null, "prompt", prompt, "is required");
        check(errors, onBadRecord != null, "on-bad-record", onBadRecord, "is required");
        check(errors, initAdapter == null || !initAdapter.isBlank(), "init-adapter", "'" + initAdapter + "'",
                "must name an adapter folder (or be absent for a fresh LoRA)");
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid training config: " + String.join("; ", errors));
        }
    }

    public LoraConfig lora() {
        return LoraConfig.of(loraR, loraAlpha, loraDropout, targetModules);
    }

    /**
     * This config with the LoRA settings of an adapter the run starts from: as with PEFT's
     * {@code PeftModel.from_pretrained(base, dir, is_trainable=True)}, the adapter's {@code adapter_config.json}
     * decides r, alpha, dropout and target modules (a regex target keeps this config's list, as does the same set
     * in another order). What this record cannot express (rsLoRA, rank/alpha patterns, layers_to_transform) stays
     * in the adapter's own config, which every checkpoint keeps.
     */
    public TrainConfig withLoraOf(LoraConfig adapter) {
        boolean sameTargets = adapter.targetRegex() != null
                || Set.copyOf(adapter.targetModules()).equals(Set.copyOf(targetModules));
        List<String> modules = sameTargets ? targetModules
                : LoraConfig.ALL_MODULES.stream().filter(adapter.targetModules()::contains).toList();
        return toBuilder().loraR(adapter.r()).loraAlpha(adapter.loraAlpha()).loraDropout(adapter.loraDropout())
                .targetModules(modules).build();
    }

    /** What {@link #withLoraOf} changes ({@code lora_r 8 -> 16}), and the adapter's settings this record lacks. */
    public List<String> loraChanges(LoraConfig adapter) {
        ObjectNode asked = toJson();
        ObjectNode got = withLoraOf(adapter).toJson();
        List<String> changes = new ArrayList<>();
        for (String key : List.of("lora_r", "lora_alpha", "lora_dropout", "target_modules")) {
            if (!asked.get(key).equals(got.get(key))) {
                changes.add(key + " " + asked.get(key) + " -> " + got.get(key));
            }
        }
        if (adapter.targetRegex() != null) {
            changes.add("target_modules regex '" + adapter.targetRegex() + "'");
        }
        if (adapter.useRslora() || !adapter.rankPattern().isEmpty() || !adapter.alphaPattern().isEmpty()
                || adapter.layersToTransform() != null) {
            changes.add("use_rslora " + adapter.useRslora() + ", rank_pattern " + adapter.rankPattern()
                    + ", alpha_pattern " + adapter.alphaPattern() + ", layers_to_transform "
                    + adapter.layersToTransform());
        }
        return changes;
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", model);
        o.put("train", trainData);
        o.put("eval", evalData);
        o.put("epochs", epochs);
        o.put("lr", lr);
        o.put("warmup_ratio", warmupRatio);
        o.put("weight_decay", weightDecay);
        o.put("max_grad_norm", maxGradNorm);
        o.put("batch_size", batchSize);
        o.put("grad_accum", gradAccum);
        o.put("lora_r", loraR);
        o.put("lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        targetModules.forEach(o.putArray("target_modules")::add);
        o.put("max_seq_len", maxSeqLen);
        o.put("save_every_epochs", saveEveryEpochs);
        o.put("save_every_steps", saveEverySteps);
        o.put("eval_limit", evalLimit);
        o.put("eval_max_new_tokens", evalMaxNewTokens);
        o.put("eval_batch_size", evalBatchSize);
        o.set("prompt", prompt.toJson());
        o.put("on_bad_record", onBadRecord.name().toLowerCase(Locale.ROOT));
        o.put("seed", seed);
        o.put("recompute", recompute);
        o.put("train_limit", trainLimit);
        o.put("init_adapter", initAdapter);
        return o;
    }

    private static final Set<String> KEYS = Set.of("model", "train", "eval", "epochs", "lr", "warmup_ratio",
            "weight_decay", "max_grad_norm", "batch_size", "grad_accum", "lora_r", "lora_alpha", "lora_dropout",
            "target_modules", "max_seq_len", "save_every_epochs", "save_every_steps", "eval_limit",
            "eval_max_new_tokens", "eval_batch_size", "prompt", "on_bad_record", "seed", "recompute", "train_limit",
            "init_adapter");

    public static TrainConfig fromJson(JsonNode o) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown training config key '" + key + "'");
            }
        }
        List<String> modules = new ArrayList<>();
        o.path("target_modules").forEach(n -> modules.add(n.asText()));
        JsonNode init = o.path("init_adapter");
        if (!init.isMissingNode() && !init.isNull() && !init.isTextual()) {
            throw new IllegalArgumentException("init_adapter must be a folder path or null, got " + init);
        }
        return new TrainConfig(
                o.path("model").asText(null), o.path("train").asText(null), o.path("eval").asText(null),
                o.path("epochs").asInt(), o.path("lr").asDouble(), o.path("warmup_ratio").asDouble(),
                o.path("weight_decay").asDouble(), o.path("max_grad_norm").asDouble(), o.path("batch_size").asInt(),
                o.path("grad_accum").asInt(), o.path("lora_r").asInt(), o.path("lora_alpha").asDouble(),
                o.path("lora_dropout").asDouble(), modules, o.path("max_seq_len").asInt(),
                o.path("save_every_epochs").asInt(), o.path("save_every_steps").asInt(), o.path("eval_limit").asInt(),
                o.path("eval_max_new_tokens").asInt(), o.path("eval_batch_size").asInt(),
                PromptTemplate.fromJson(o.get("prompt")),
                OnBadRecord.valueOf(o.path("on_bad_record").asText("skip").toUpperCase(Locale.ROOT)),
                o.path("seed").asLong(), o.path("recompute").asBoolean(), o.path("train_limit").asInt(0),
                init.isTextual() ? init.asText() : null);
    }

    public static TrainConfig read(Path file) throws IOException {
        try {
            return fromJson(JSON.readTree(Files.readString(file)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(toJson()));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A builder starting from tuneloop's documented defaults (the README's table). */
    public static Builder builder(String model, String trainData, String evalData) {
        return new Builder(model, trainData, evalData);
    }

    /** A builder starting from this config (e.g. a saved run's, for --resume). */
    public Builder toBuilder() {
        return new Builder(model, trainData, evalData).epochs(epochs).lr(lr).warmupRatio(warmupRatio)
                .weightDecay(weightDecay).maxGradNorm(maxGradNorm).batchSize(batchSize).gradAccum(gradAccum)
                .loraR(loraR).loraAlpha(loraAlpha).loraDropout(loraDropout).targetModules(targetModules)
                .maxSeqLen(maxSeqLen).saveEveryEpochs(saveEveryEpochs).saveEverySteps(saveEverySteps)
                .evalLimit(evalLimit).evalMaxNewTokens(evalMaxNewTokens).evalBatchSize(evalBatchSize).prompt(prompt)
                .onBadRecord(onBadRecord).seed(seed).recompute(recompute).trainLimit(trainLimit)
                .initAdapter(initAdapter);
    }

    /** Named setters over the record's components; {@link #build()} validates. */
    public static final class Builder {
        private String model;
        private String trainData;
        private String evalData;
        private int epochs = 3;
        private double lr = 2e-4;
        private double warmupRatio = 0.03;
        private double weightDecay = 0.0;
        private double maxGradNorm = 1.0;
        private int batchSize = 4;
        private int gradAccum = 4;
        private int loraR = 8;
        private double loraAlpha = 16;
        private double loraDropout = 0.05;
        private List<String> targetModules = LoraConfig.ALL_MODULES;
        private int maxSeqLen = 512;
        private int saveEveryEpochs = 1;
        private int saveEverySteps = 0;
        private int evalLimit = 200;
        private int evalMaxNewTokens = 32;
        private int evalBatchSize = 8;
        private PromptTemplate prompt = PromptTemplate.defaults(PromptMode.CONTEXT);
        private OnBadRecord onBadRecord = OnBadRecord.SKIP;
        private long seed = 42;
        private boolean recompute = true;
        private int trainLimit = 0;
        private String initAdapter = null;

        private Builder(String model, String trainData, String evalData) {
            this.model = model;
            this.trainData = trainData;
            this.evalData = evalData;
        }

        public Builder model(String v) { model = v; return this; }
        public Builder trainData(String v) { trainData = v; return this; }
        public Builder evalData(String v) { evalData = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder warmupRatio(double v) { warmupRatio = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradAccum(int v) { gradAccum = v; return this; }
        public Builder loraR(int v) { loraR = v; return this; }
        public Builder loraAlpha(double v) { loraAlpha = v; return this; }
        public Builder loraDropout(double v) { loraDropout = v; return this; }
        public Builder targetModules(List<String> v) { targetModules = v; return this; }
        public Builder maxSeqLen(int v) { maxSeqLen = v; return this; }
        public Builder saveEveryEpochs(int v) { saveEveryEpochs = v; return this; }
        public Builder saveEverySteps(int v) { saveEverySteps = v; return this; }
        public Builder evalLimit(int v) { evalLimit = v; return this; }
        public Builder evalMaxNewTokens(int v) { evalMaxNewTokens = v; return this; }
        public Builder evalBatchSize(int v) { evalBatchSize = v; return this; }
        public Builder prompt(PromptTemplate v) { prompt = v; return this; }
        public Builder onBadRecord(OnBadRecord v) { onBadRecord = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder recompute(boolean v) { recompute = v; return this; }
        public Builder trainLimit(int v) { trainLimit = v; return this; }
        public Builder initAdapter(String v) { initAdapter = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(model, trainData, evalData, epochs, lr, warmupRatio, weightDecay, maxGradNorm,
                    batchSize, gradAccum, loraR, loraAlpha, loraDropout, targetModules, maxSeqLen, saveEveryEpochs,
                    saveEverySteps, evalLimit, evalMaxNewTokens, evalBatchSize, prompt, onBadRecord, seed, recompute,
                    trainLimit, initAdapter);
        }
    }

    private static void check(List<String> errors, boolean ok, String field, Object value, String rule) {
        if (!ok) {
            errors.add("--" + field + " " + value + " " + rule);
        }
    }
}
