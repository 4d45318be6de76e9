package dev.tuneloop.model.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A PEFT {@code LoraConfig} as written to {@code adapter_config.json}. Every key PEFT writes is either supported
 * (r, lora_alpha, lora_dropout, target_modules as list or regex, use_rslora, rank_pattern, alpha_pattern,
 * layers_to_transform/layers_pattern) or, when set to something that would change the math, rejected by name
 * (use_dora, modules_to_save, bias, fan_in_fan_out, …).
 *
 * @param targetModules PEFT module names ({@code q_proj}, …) or, when {@code targetRegex} is set, unused
 * @param targetRegex   a full-match regex over module paths (PEFT's string form of {@code target_modules}), or null
 */
public record LoraConfig(
        int r,
        double loraAlpha,
        double loraDropout,
        List<String> targetModules,
        String targetRegex,
        boolean useRslora,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern,
        List<Integer> layersToTransform,
        String initLoraWeights,
        String baseModelNameOrPath) {

    public static final List<String> ALL_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Keys that only describe the adapter, or whose PEFT default is the only value that makes sense here. */
    private static final Set<String> METADATA = Set.of("peft_type", "task_type", "base_model_name_or_path", "revision",
            "inference_mode", "auto_mapping", "megatron_config", "megatron_core", "qalora_group_size", "eva_config",
            "corda_config", "loftq_config", "runtime_config", "peft_version", "layers_pattern");

    public LoraConfig {
        targetModules = List.copyOf(targetModules);
        // keep the file's order: PEFT takes the first matching pattern key
        rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        if (r <= 0) {
            throw new IllegalArgumentException("r " + r + " must be > 0");
        }
        if (!(loraAlpha > 0)) {
            throw new IllegalArgumentException("lora_alpha " + loraAlpha + " must be > 0");
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout " + loraDropout + " must be in [0, 1)");
        }
        if (targetRegex == null) {
            if (targetModules.isEmpty()) {
                throw new IllegalArgumentException("target_modules is empty");
            }
            for (String m : targetModules) {
                if (!ALL_MODULES.contains(m)) {
                    throw new IllegalArgumentException("target_modules entry '" + m + "' is not a Qwen2 projection "
                            + ALL_MODULES);
                }
            }
        } else {
            Pattern.compile(targetRegex);
        }
        rankPattern.forEach((k, v) -> {
            if (v <= 0) {
                throw new IllegalArgumentException("rank_pattern '" + k + "' rank " + v + " must be > 0");
            }
        });
        rankPattern.keySet().forEach(Pattern::compile);
        alphaPattern.keySet().forEach(Pattern::compile);
    }

    /** A fresh config for training. */
    public static LoraConfig of(int r, double alpha, double dropout, List<String> targetModules) {
        return new LoraConfig(r, alpha, dropout, targetModules, null, false, Map.of(), Map.of(), null, "true", null);
    }

    /** Does this adapter wrap the module at {@code path} (e.g. {@code model.layers.3.self_attn.q_proj})? */
    public boolean targets(String path) {
        boolean named = targetRegex != null
                ? Pattern.compile(targetRegex).matcher(path).matches()
                : targetModules.stream().anyMatch(m -> path.equals(m) || path.endsWith("." + m));
        if (!named || layersToTransform == null || layersToTransform.isEmpty()) { // PEFT: [] means every layer
            return named;
        }
        java.util.regex.Matcher layer = Pattern.compile("\\.layers\\.(\\d+)\\.").matcher(path);
        return layer.find() && layersToTransform.contains(Integer.parseInt(layer.group(1)));
    }

    public int rankFor(String path) {
        String key = patternKey(rankPattern.keySet(), path);
        return key == null ? r : rankPattern.get(key);
    }

    public double alphaFor(String path) {
        String key = patternKey(alphaPattern.keySet(), path);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** PEFT's scaling: alpha / r, or alpha / sqrt(r) with rsLoRA. */
    public double scalingFor(String path) {
        int rank = rankFor(path);
        return alphaFor(path) / (useRslora ? Math.sqrt(rank) : rank);
    }

    /** PEFT matches pattern keys as {@code (.*\.)?(key)$} against the module path; the first match wins. */
    private static String patternKey(Set<String> keys, String path) {
        for (String k : keys) {
            if (Pattern.compile("(.*\\.)?(" + k + ")$").matcher(path).matches()) {
                return k;
            }
        }
        return null;
    }

    public static LoraConfig read(Path adapterDir) throws IOException {
        Path file = adapterDir.resolve("adapter_config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no adapter_config.json in adapter folder " + adapterDir);
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static LoraConfig fromJson(JsonNode c) {
        String peftType = c.path("peft_type").asText("LORA");
        if (!peftType.equals("LORA")) {
            throw new IllegalArgumentException("peft_type '" + peftType + "' is not supported (only LORA)");
        }
        rejectUnless(c, "use_dora", JsonNode::isBoolean, n -> !n.asBoolean(), "DoRA is not supported");
        rejectUnless(c, "bias", JsonNode::isTextual, n -> n.asText().equals("none"), "only bias='none' is supported");
        rejectUnless(c, "fan_in_fan_out", JsonNode::isBoolean, n -> !n.asBoolean(), "Qwen2 uses nn.Linear, not Conv1D");
        rejectUnless(c, "lora_bias", JsonNode::isBoolean, n -> !n.asBoolean(), "LoRA biases are not supported");
        rejectUnless(c, "use_qalora", JsonNode::isBoolean, n -> !n.asBoolean(), "QA-LoRA is not supported");
        rejectUnless(c, "ensure_weight_tying", JsonNode::isBoolean, n -> !n.asBoolean(), "not supported");
        for (String key : List.of("modules_to_save", "exclude_modules", "layer_replication", "target_parameters",
                "trainable_token_indices", "alora_invocation_tokens", "arrow_config")) {
            rejectUnless(c, key, n -> true, LoraConfig::isEmpty, "is not supported (must be null or empty)");
        }
        JsonNode init = c.get("init_lora_weights");
        String initValue = init == null || init.isNull() ? "true" : init.asText();
        if (!List.of("true", "false", "gaussian").contains(initValue)) {
            throw new IllegalArgumentException("init_lora_weights '" + initValue
                    + "' is not supported (true, false or gaussian; PiSSA/OLoRA/LoftQ/EVA/CorDA change base weights)");
        }
        for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!METADATA.contains(key) && !KNOWN.contains(key)) {
                if (!isEmpty(c.get(key))) {
                    throw new IllegalArgumentException("unknown adapter_config key '" + key + "' = " + c.get(key)
                            + " (not supported)");
                }
            }
        }
        String layersPattern = c.path("layers_pattern").isNull() ? null : c.path("layers_pattern").asText(null);
        if (layersPattern != null && !layersPattern.isEmpty() && !layersPattern.equals("layers")
                && !(c.get("layers_pattern").isArray() && c.get("layers_pattern").toString().equals("[\"layers\"]"))) {
            throw new IllegalArgumentException("layers_pattern '" + c.get("layers_pattern") + "' is not supported"
                    + " (Qwen2's blocks are 'layers')");
        }
        JsonNode targets = c.get("target_modules");
        List<String> modules = new ArrayList<>();
        String regex = null;
        if (targets == null || targets.isNull()) {
            throw new IllegalArgumentException("target_modules is missing");
        } else if (targets.isTextual()) {
            if (targets.asText().equals("all-linear")) {
                modules.addAll(ALL_MODULES);
            } else {
                regex = targets.asText();
            }
        } else if (targets.isArray()) {
            targets.forEach(t -> modules.add(t.asText()));
        } else {
            throw new IllegalArgumentException("target_modules must be a list or a regex string, got " + targets);
        }
        List<Integer> layers = null;
        JsonNode ltt = c.get("layers_to_transform");
        if (ltt != null && !ltt.isNull()) {
            layers = new ArrayList<>();
            if (ltt.isInt()) {
                layers.add(ltt.asInt());
            } else {
                for (JsonNode n : ltt) {
                    layers.add(n.asInt());
                }
            }
        }
        Map<String, Integer> ranks = new LinkedHashMap<>();
        c.path("rank_pattern").fields().forEachRemaining(e -> ranks.put(e.getKey(), e.getValue().asInt()));
        Map<String, Double> alphas = new LinkedHashMap<>();
        c.path("alpha_pattern").fields().forEachRemaining(e -> alphas.put(e.getKey(), e.getValue().asDouble()));
        return new LoraConfig(
                requireInt(c, "r"),
                c.has("lora_alpha") ? c.get("lora_alpha").asDouble() : 8,
                c.path("lora_dropout").asDouble(0),
                modules,
                regex,
                c.path("use_rslora").asBoolean(false),
                ranks,
                alphas,
                layers,
                initValue,
                c.path("base_model_name_or_path").isNull() ? null : c.path("base_model_name_or_path").asText(null));
    }

    private static final Set<String> KNOWN = Set.of("r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora",
            "rank_pattern", "alpha_pattern", "layers_to_transform", "init_lora_weights", "use_dora", "bias",
            "fan_in_fan_out", "lora_bias", "use_qalora", "ensure_weight_tying", "modules_to_save", "exclude_modules",
            "layer_replication", "target_parameters", "trainable_token_indices", "alora_invocation_tokens",
            "arrow_config");

    /** The {@code adapter_config.json} PEFT would write for this config. */
    public ObjectNode toJson(String baseModel) {
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("base_model_name_or_path", baseModel);
        o.put("r", r);
        o.put("lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        if (targetRegex != null) {
            o.put("target_modules", targetRegex);
        } else {
            targetModules.forEach(o.putArray("target_modules")::add);
        }
        o.put("use_rslora", useRslora);
        ObjectNode ranks = o.putObject("rank_pattern");
        rankPattern.forEach(ranks::put);
        ObjectNode alphas = o.putObject("alpha_pattern");
        alphaPattern.forEach(alphas::put);
        if (layersToTransform == null) {
            o.putNull("layers_to_transform");
        } else {
            layersToTransform.forEach(o.putArray("layers_to_transform")::add);
        }
        o.putNull("layers_pattern");
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("use_dora", false);
        o.putNull("modules_to_save");
        if (initLoraWeights.equals("gaussian")) {
            o.put("init_lora_weights", "gaussian");
        } else {
            o.put("init_lora_weights", Boolean.parseBoolean(initLoraWeights)); // PEFT rejects the string "true"
        }
        o.put("inference_mode", true);
        return o;
    }

    public void write(Path adapterDir, String baseModel) throws IOException {
        Files.writeString(adapterDir.resolve("adapter_config.json"), JSON.writeValueAsString(toJson(baseModel)));
    }

    private static boolean isEmpty(JsonNode n) {
        return n == null || n.isNull() || (n.isBoolean() && !n.asBoolean())
                || (n.isContainerNode() && n.isEmpty()) || (n.isTextual() && n.asText().isEmpty());
    }

    private static void rejectUnless(JsonNode c, String key, java.util.function.Predicate<JsonNode> type,
            java.util.function.Predicate<JsonNode> ok, String why) {
        JsonNode n = c.get(key);
        if (n != null && !n.isNull() && (!type.test(n) || !ok.test(n))) {
            throw new IllegalArgumentException(key + " = " + n + ": " + why);
        }
    }

    private static int requireInt(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isIntegralNumber()) {
            throw new IllegalArgumentException(key + " must be an integer, got " + n);
        }
        return n.asInt();
    }
}
