package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.tuneloop.model.lora.LoraLinear;

/**
 * Qwen2Attention: grouped-query self-attention with rotary positions. Unlike Llama, q/k/v projections carry a bias
 * ({@code q_proj.bias} …); {@code o_proj} does not.
 */
public final class Qwen2Attention extends AbstractBlock {
    final LoraLinear qProj;
    final LoraLinear kProj;
    final LoraLinear vProj;
    final LoraLinear oProj;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;

    public Qwen2Attention(Qwen2Config c) {
        numHeads = c.numAttentionHeads();
        numKvHeads = c.numKeyValueHeads();
        headDim = c.headDim();
        qProj = addChildBlock("q_proj", new LoraLinear(c.hiddenSize(), numHeads * headDim, true));
        kProj = addChildBlock("k_proj", new LoraLinear(c.hiddenSize(), numKvHeads * headDim, true));
        vProj = addChildBlock("v_proj", new LoraLinear(c.hiddenSize(), numKvHeads * headDim, true));
        oProj = addChildBlock("o_proj", new LoraLinear(numHeads * headDim, c.hiddenSize(), false));
    }

    /**
     * @param x    (B, T, H) normed hidden states
     * @param rope cos and sin, each (B, 1, T, hd)
     * @param mask additive mask (B, 1, T, S): 0 where a query may attend, a large negative value elsewhere
     * @param cache null, or the cache this pass appends to (then S = cached + T)
     */
    public NDArray forward(NDArray x, NDList rope, NDArray mask, KvCache cache, int layer, boolean training) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = qProj.forward(x, training).reshape(b, t, numHeads, headDim).transpose(0, 2, 1, 3); // (B, nh, T, hd)
        NDArray k = kProj.forward(x, training).reshape(b, t, numKvHeads, headDim).transpose(0, 2, 1, 3); // (B, nkv, T, hd)
        NDArray v = vProj.forward(x, training).reshape(b, t, numKvHeads, headDim).transpose(0, 2, 1, 3); // (B, nkv, T, hd)
        q = RotaryEmbedding.apply(q, rope.get(0), rope.get(1));
        k = RotaryEmbedding.apply(k, rope.get(0), rope.get(1));
        if (cache != null) {
            NDList kv = cache.append(layer, k, v); // (B, nkv, S, hd)
            k = kv.get(0);
            v = kv.get(1);
        }
        long s = k.getShape().get(2);
        // GQA (HF repeat_kv): query head h reads key/value head h / g, g = nh / nkv. Instead of repeating k and v g
        // times (a copy of the whole cache per layer and step), the g query heads of a kv head become g·T query rows.
        int groups = numHeads / numKvHeads;
        NDArray qg = q.reshape(b, numKvHeads, groups * t, headDim); // (B, nkv, g*T, hd)
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(headDim)) // (B, nkv, g*T, S)
                .reshape(b, numKvHeads, groups, t, s).add(mask.expandDims(1)); // (B, nkv, g, T, S)
        NDArray probs = scores.softmax(-1).reshape(b, numKvHeads, groups * t, s);
        NDArray out = probs.matMul(v).reshape(b, numHeads, t, headDim); // (B, nh, T, hd)
        out = out.transpose(0, 2, 1, 3).reshape(b, t, (long) numHeads * headDim); // (B, T, nh*hd)
        return oProj.forward(out, training); // (B, T, H)
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(forward(in.get(0), new NDList(in.get(1), in.get(2)), in.get(3), null, 0, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
