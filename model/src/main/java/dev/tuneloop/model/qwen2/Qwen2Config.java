package dev.tuneloop.model.qwen2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Hugging Face Qwen2 {@code config.json} that the model uses, validated. Fields the math does not
 * depend on (dropouts at 0, {@code use_cache}, {@code max_window_layers} while sliding windows are off) are accepted
 * and ignored; anything that would change the math and is not supported is rejected by name.
 */
public record Qwen2Config(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        List<Long> eosTokenIds,
        String nameOrPath) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Qwen2Config {
        eosTokenIds = List.copyOf(eosTokenIds);
        require(vocabSize > 0, "vocab_size", vocabSize, "must be > 0");
        require(hiddenSize > 0, "hidden_size", hiddenSize, "must be > 0");
        require(intermediateSize > 0, "intermediate_size", intermediateSize, "must be > 0");
        require(numHiddenLayers > 0, "num_hidden_layers", numHiddenLayers, "must be > 0");
        require(numAttentionHeads > 0, "num_attention_heads", numAttentionHeads, "must be > 0");
        require(numKeyValueHeads > 0, "num_key_value_heads", numKeyValueHeads, "must be > 0");
        require(hiddenSize % numAttentionHeads == 0, "hidden_size", hiddenSize,
                "is not divisible by num_attention_heads " + numAttentionHeads);
        require(numAttentionHeads % numKeyValueHeads == 0, "num_attention_heads", numAttentionHeads,
                "is not divisible by num_key_value_heads " + numKeyValueHeads);
        require((hiddenSize / numAttentionHeads) % 2 == 0, "head_dim", hiddenSize / numAttentionHeads,
                "must be even for rotary embeddings");
        require(maxPositionEmbeddings > 0, "max_position_embeddings", maxPositionEmbeddings, "must be > 0");
        require(rmsNormEps > 0, "rms_norm_eps", rmsNormEps, "must be > 0");
        require(ropeTheta > 0, "rope_theta", ropeTheta, "must be > 0");
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Query heads per key/value head (grouped-query attention). */
    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    public static Qwen2Config load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no config.json in model folder " + modelDir);
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson((ObjectNode) root, modelDir.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static Qwen2Config fromJson(ObjectNode c, String nameOrPath) {
        String type = text(c, "model_type", null);
        if (!"qwen2".equals(type)) {
            throw new IllegalArgumentException("model_type '" + type + "' is not supported (expected 'qwen2')");
        }
        if (c.path("use_sliding_window").asBoolean(false)) {
            throw new IllegalArgumentException("use_sliding_window=true is not supported (sliding-window attention)");
        }
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (expected 'silu')");
        }
        JsonNode scaling = c.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new IllegalArgumentException("rope_scaling " + scaling + " is not supported (only plain RoPE)");
        }
        if (c.path("attention_dropout").asDouble(0) != 0) {
            throw new IllegalArgumentException("attention_dropout " + c.get("attention_dropout")
                    + " is not supported (must be 0)");
        }
        int hidden = integer(c, "hidden_size");
        int heads = integer(c, "num_attention_heads");
        if (c.has("head_dim") && !c.get("head_dim").isNull() && c.get("head_dim").asInt() != hidden / Math.max(heads, 1)) {
            throw new IllegalArgumentException("head_dim " + c.get("head_dim") + " differs from hidden_size/heads "
                    + hidden / Math.max(heads, 1) + " (not supported)");
        }
        return new Qwen2Config(
                integer(c, "vocab_size"),
                hidden,
                integer(c, "intermediate_size"),
                integer(c, "num_hidden_layers"),
                heads,
                c.has("num_key_value_heads") ? integer(c, "num_key_value_heads") : heads,
                c.has("max_position_embeddings") ? integer(c, "max_position_embeddings") : 32768,
                c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000.0),
                c.path("tie_word_embeddings").asBoolean(false),
                eosIds(c.get("eos_token_id")),
                nameOrPath);
    }

    /** {@code eos_token_id} may be an int or a list of ints (as in {@code generation_config.json}). */
    public static List<Long> eosIds(JsonNode node) {
        List<Long> ids = new ArrayList<>();
        if (node == null || node.isNull()) {
            return ids;
        }
        if (node.isIntegralNumber()) {
            ids.add(node.asLong());
        } else if (node.isArray()) {
            for (JsonNode n : node) {
                if (!n.isIntegralNumber()) {
                    throw new IllegalArgumentException("eos_token_id list holds a non-integer: " + n);
                }
                ids.add(n.asLong());
            }
        } else {
            throw new IllegalArgumentException("eos_token_id must be an int or a list of ints, got " + node);
        }
        return ids;
    }

    private static int integer(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("missing field " + field);
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("field " + field + " must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static String text(JsonNode c, String field, String fallback) {
        JsonNode n = c.get(field);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    private static void require(boolean ok, String field, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(field + " " + value + " " + rule);
        }
    }
}
