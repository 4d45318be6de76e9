package dev.tuneloop.cli;

import ai.djl.nn.Parameter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.lora.LoraLinear;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The modules of a loaded Qwen2ForCausalLM under their Hugging Face names, with the shapes of the loaded weights and
 * the LoRA each projection carries. Consecutive layers that look alike are shown once, as
 * {@code model.layers.{0..23}.self_attn.q_proj}.
 */
final class ModuleTree {
    private static final String[] PROJECTIONS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
        "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    private ModuleTree() {}

    private record Row(String name, String shape, String lora) {}

    /** @param lora the config of the adapter the model carries, or null when it carries none */
    static List<String> lines(Qwen2ForCausalLM lm, LoraConfig lora) {
        Qwen2Config c = lm.config();
        Map<String, Parameter> params = lm.namedParameters();
        Map<String, LoraLinear> projections = lm.projections();
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("model.embed_tokens", shape(params.get("model.embed_tokens.weight")), ""));

        List<List<Row>> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String prefix = "model.layers." + i + ".";
            List<Row> layer = new ArrayList<>();
            for (String p : PROJECTIONS) {
                LoraLinear linear = projections.get(prefix + p);
                String shape = "(" + linear.inFeatures() + " -> " + linear.outFeatures()
                        + (linear.bias() != null ? ", bias)" : ")");
                layer.add(new Row(p, shape, linear.hasLora() ? loraText(lora, prefix + p) : ""));
            }
            for (String norm : new String[] {"input_layernorm", "post_attention_layernorm"}) {
                layer.add(new Row(norm, shape(params.get(prefix + norm + ".weight")) + " RMSNorm", ""));
            }
            layers.add(layer);
        }
        for (int from = 0; from < layers.size(); ) {
            int to = from;
            while (to + 1 < layers.size() && layers.get(to + 1).equals(layers.get(from))) {
                to++;
            }
            String layer = from == to ? Integer.toString(from) : "{" + from + ".." + to + "}";
            String prefix = "model.layers." + layer + ".";
            for (Row r : layers.get(from)) {
                rows.add(new Row(prefix + r.name, r.shape, r.lora));
            }
            from = to + 1;
        }
        rows.add(new Row("model.norm", shape(params.get("model.norm.weight")) + " RMSNorm", ""));
        rows.add(new Row("lm_head", "(" + c.hiddenSize() + " -> " + c.vocabSize() + ")"
                + (c.tieWordEmbeddings() ? " tied to model.embed_tokens" : ""), ""));

        int nameWidth = rows.stream().mapToInt(r -> r.name.length()).max().orElse(0);
        int shapeWidth = rows.stream().filter(r -> !r.lora.isEmpty()).mapToInt(r -> r.shape.length()).max().orElse(0);
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "Qwen2ForCausalLM: %d layers, hidden %d, intermediate %d, %d heads / %d KV"
                + " heads (head_dim %d), vocab %d%s", c.numHiddenLayers(), c.hiddenSize(), c.intermediateSize(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.vocabSize(),
                c.tieWordEmbeddings() ? ", tied embeddings" : ""));
        for (Row r : rows) {
            String line = r.lora.isEmpty() ? String.format("%-" + nameWidth + "s  %s", r.name, r.shape)
                    : String.format("%-" + nameWidth + "s  %-" + shapeWidth + "s  %s", r.name, r.shape, r.lora);
            out.add(line.stripTrailing());
        }
        return out;
    }

    private static String loraText(LoraConfig lora, String path) {
        return "LoRA r=" + lora.rankFor(path) + " alpha=" + num(lora.alphaFor(path)) + " scaling="
                + num(lora.scalingFor(path));
    }

    private static String shape(Parameter p) {
        long[] s = p.getArray().getShape().getShape();
        return s.length == 1 ? "(" + s[0] + ",)" : Arrays.toString(s).replace('[', '(').replace(']', ')');
    }

    /** 16.0 as "16", 0.5 as "0.5", 1/3 as "0.333333". */
    static String num(double v) {
        BigDecimal d = new BigDecimal(String.format(Locale.ROOT, "%.6f", v)).stripTrailingZeros();
        return d.toPlainString();
    }
}
