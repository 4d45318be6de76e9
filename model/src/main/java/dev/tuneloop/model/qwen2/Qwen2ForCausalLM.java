package dev.tuneloop.model.qwen2;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.tuneloop.model.lora.LoraDropout;
import dev.tuneloop.model.lora.LoraLinear;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Qwen2ForCausalLM: {@link Qwen2Model} plus the vocabulary head. With {@code tie_word_embeddings} the head is
 * {@code model.embed_tokens.weight} itself (no {@code lm_head.weight} tensor). Owns the NDManager of all weights.
 */
public final class Qwen2ForCausalLM extends AbstractBlock implements AutoCloseable {
    private final Qwen2Config config;
    private final NDManager manager;
    private final Qwen2Model model;
    private final Parameter lmHead;
    private final RotaryEmbedding rope;
    private final RowSplitGemv headGemv = new RowSplitGemv();

    /** The structure only; weights come from {@link Qwen2Weights}. */
    public Qwen2ForCausalLM(Qwen2Config config, NDManager manager) {
        this.config = config;
        this.manager = manager;
        this.model = addChildBlock("model", new Qwen2Model(config));
        this.lmHead = config.tieWordEmbeddings()
                ? null
                : addParameter(Parameter.builder().setName("lm_head.weight").setType(Parameter.Type.WEIGHT).build());
        this.rope = new RotaryEmbedding(manager, config.headDim(), config.ropeTheta());
    }

    public Qwen2Config config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public Qwen2Model model() {
        return model;
    }

    /** Every weight under its Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", model.embedTokens);
        projections().forEach((path, p) -> {
            out.put(path + ".weight", p.weight());
            if (p.bias() != null) {
                out.put(path + ".bias", p.bias());
            }
        });
        for (Qwen2DecoderLayer layer : model.layers) {
            String prefix = "model.layers." + layer.index + ".";
            out.put(prefix + "input_layernorm.weight", layer.inputLayernorm.weight());
            out.put(prefix + "post_attention_layernorm.weight", layer.postAttentionLayernorm.weight());
        }
        out.put("model.norm.weight", model.norm.weight());
        if (lmHead != null) {
            out.put("lm_head.weight", lmHead);
        }
        return out;
    }

    /** The seven linear projections of every layer by module path, e.g. {@code model.layers.3.mlp.down_proj}. */
    public Map<String, LoraLinear> projections() {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        for (Qwen2DecoderLayer layer : model.layers) {
            String prefix = "model.layers." + layer.index + ".";
            Qwen2Attention a = layer.selfAttn;
            out.put(prefix + "self_attn.q_proj", a.qProj);
            out.put(prefix + "self_attn.k_proj", a.kProj);
            out.put(prefix + "self_attn.v_proj", a.vProj);
            out.put(prefix + "self_attn.o_proj", a.oProj);
            out.put(prefix + "mlp.gate_proj", layer.mlp.gateProj);
            out.put(prefix + "mlp.up_proj", layer.mlp.upProj);
            out.put(prefix + "mlp.down_proj", layer.mlp.downProj);
        }
        return out;
    }

    /** The head weight (V, H): {@code lm_head.weight}, or the tied embedding. */
    public NDArray headWeight() {
        return lmHead != null ? lmHead.getArray() : model.embedTokens.getArray();
    }

    /**
     * Hidden states after the final norm for {@code inputIds (B, T)}.
     *
     * @param fullMask attention mask over cached + new positions, {@code (B, past + T)} row-major, 1 = real token
     * @param cache    null, or the KV cache holding {@code past} positions (appended to)
     */
    public NDArray hidden(NDArray inputIds, long[] fullMask, KvCache cache, boolean training) {
        int b = (int) inputIds.getShape().get(0);
        int t = (int) inputIds.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        AttentionInputs in = AttentionInputs.of(fullMask, b, past, t);
        NDManager m = inputIds.getManager();
        NDArray positions = m.create(in.positionIds(), new Shape(b, t));
        NDArray mask = m.create(in.additiveMask(), new Shape(b, 1, t, past + t));
        return model.forward(inputIds, rope.cosSin(positions), mask, cache, training); // (B, T, H)
    }

    /** (..., H) -> (..., V). */
    public NDArray logits(NDArray hidden) {
        return headGemv.linear(hidden, headWeight(), null); // one decode row: split over the cores
    }

    /**
     * Sum of Hugging Face's shifted cross-entropy over {@code labels[:, 1:] != -100}, with the vocabulary head applied
     * only at those positions. {@code hidden} is (B, T, H).
     */
    public NDArray lossSum(NDArray hidden, TokenBatch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        List<Long> rows = new ArrayList<>();
        List<Long> targets = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            for (int i = 0; i + 1 < t; i++) { // position i predicts token i + 1 (the shift)
                long label = batch.labels()[r * t + i + 1];
                if (label != TokenBatch.IGNORE_INDEX) {
                    if (label < 0 || label >= config.vocabSize()) {
                        throw new IllegalArgumentException("label " + label + " at row " + r + ", position " + (i + 1)
                                + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                    }
                    rows.add((long) r * t + i);
                    targets.add(label);
                }
            }
        }
        NDManager m = hidden.getManager();
        if (rows.isEmpty()) {
            return m.zeros(new Shape());
        }
        NDArray index = m.create(rows.stream().mapToLong(Long::longValue).toArray());
        NDArray flat = hidden.reshape(-1, hidden.getShape().get(2)); // (B*T, H)
        NDArray selected = index.getNDArrayInternal().embedding(index, flat, SparseFormat.DENSE).singletonOrThrow();
        NDArray logProbs = logits(selected).logSoftmax(-1); // (N, V)
        NDArray target = m.create(targets.stream().mapToLong(Long::longValue).toArray()).expandDims(1); // (N, 1)
        return logProbs.gather(target, 1).sum().neg();
    }

    /**
     * One forward + backward pass over a training batch; gradients accumulate on the trainable (LoRA) weights.
     * Backpropagates {@code lossSum · lossScale}, returns the unscaled loss sum.
     *
     * @param recompute   keep only each layer's input and recompute the layer in the backward pass (activation
     *                    checkpointing: ~1/3 more compute, memory of one layer instead of all)
     * @param dropoutSeed LoRA dropout masks derive from it and the layer index, so a recomputed layer draws the same mask
     */
    public double forwardBackward(TokenBatch batch, double lossScale, boolean recompute, long dropoutSeed) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = manager.newSubManager();
                var collector = engine.newGradientCollector()) {
            int b = batch.batchSize();
            int t = batch.seqLen();
            NDArray ids = m.create(batch.inputIds(), new Shape(b, t));
            AttentionInputs in = AttentionInputs.of(batch.attentionMask(), b, 0, t);
            NDList cosSin = rope.cosSin(m.create(in.positionIds(), new Shape(b, t)));
            NDArray mask = m.create(in.additiveMask(), new Shape(b, 1, t, t));
            NDArray h = model.embed(ids);
            if (!recompute) {
                for (Qwen2DecoderLayer layer : model.layers) {
                    LoraDropout.seed(layerSeed(dropoutSeed, layer.index));
                    h = layer.forward(h, cosSin, mask, null, true);
                }
                NDArray loss = lossSum(model.norm.forward(h), batch);
                collector.backward(loss.mul(lossScale));
                return loss.getFloat();
            }
            // Forward without autograd, keeping only each layer's input.
            NDArray[] inputs = new NDArray[model.layers.size() + 1];
            inputs[0] = h;
            JniUtils.setGradMode(false);
            for (Qwen2DecoderLayer layer : model.layers) {
                LoraDropout.seed(layerSeed(dropoutSeed, layer.index));
                try (NDScope scope = new NDScope()) {
                    inputs[layer.index + 1] = layer.forward(inputs[layer.index], cosSin, mask, null, true);
                    NDScope.unregister(inputs[layer.index + 1]);
                }
            }
            JniUtils.setGradMode(true);
            // Head and loss with autograd, from the last layer's output.
            NDArray last = inputs[inputs.length - 1];
            last.setRequiresGradient(true);
            NDArray loss = lossSum(model.norm.forward(last), batch);
            collector.backward(loss.mul(lossScale));
            NDArray upstream = last.getGradient();
            // Layer by layer, last first: recompute it with autograd, backpropagate the upstream gradient.
            for (int l = model.layers.size() - 1; l >= 0; l--) {
                try (NDScope scope = new NDScope()) {
                    NDArray x = inputs[l];
                    x.setRequiresGradient(true);
                    LoraDropout.seed(layerSeed(dropoutSeed, l));
                    NDArray y = model.layers.get(l).forward(x, cosSin, mask, null, true);
                    JniUtils.backward((PtNDArray) y, (PtNDArray) upstream, false, false);
                    upstream.close();
                    upstream = x.getGradient();
                    NDScope.unregister(upstream);
                }
                inputs[l + 1].close();
            }
            upstream.close();
            return loss.getFloat();
        } finally {
            JniUtils.setGradMode(false);
        }
    }

    private static int layerSeed(long seed, int layer) {
        long z = seed * 0x9E3779B97F4A7C15L + layer * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 29));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray ids = in.singletonOrThrow();
        long[] mask = new long[(int) ids.size()];
        java.util.Arrays.fill(mask, 1);
        return new NDList(logits(hidden(ids, mask, null, training)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    public void close() {
        rope.close();
        manager.close();
    }
}
