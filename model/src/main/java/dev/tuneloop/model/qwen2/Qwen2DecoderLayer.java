package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Qwen2DecoderLayer, pre-norm: {@code h = x + attn(norm1(x)); out = h + mlp(norm2(h))}. */
public final class Qwen2DecoderLayer extends AbstractBlock {
    final int index;
    final RmsNorm inputLayernorm;
    final Qwen2Attention selfAttn;
    final RmsNorm postAttentionLayernorm;
    final Qwen2Mlp mlp;

    public Qwen2DecoderLayer(Qwen2Config c, int index) {
        this.index = index;
        inputLayernorm = addChildBlock("input_layernorm", new RmsNorm(c.rmsNormEps()));
        selfAttn = addChildBlock("self_attn", new Qwen2Attention(c));
        postAttentionLayernorm = addChildBlock("post_attention_layernorm", new RmsNorm(c.rmsNormEps()));
        mlp = addChildBlock("mlp", new Qwen2Mlp(c));
    }

    public NDArray forward(NDArray x, NDList rope, NDArray mask, KvCache cache, boolean training) { // (B, T, H)
        NDArray h = x.add(selfAttn.forward(inputLayernorm.forward(x), rope, mask, cache, index, training));
        return h.add(mlp.forward(postAttentionLayernorm.forward(h), training));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(forward(in.get(0), new NDList(in.get(1), in.get(2)), in.get(3), null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
