package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.tuneloop.model.lora.LoraLinear;

/** Qwen2MLP, SwiGLU: {@code down_proj(silu(gate_proj(x)) * up_proj(x))}, no biases. */
public final class Qwen2Mlp extends AbstractBlock {
    final LoraLinear gateProj;
    final LoraLinear upProj;
    final LoraLinear downProj;

    public Qwen2Mlp(Qwen2Config c) {
        gateProj = addChildBlock("gate_proj", new LoraLinear(c.hiddenSize(), c.intermediateSize(), false));
        upProj = addChildBlock("up_proj", new LoraLinear(c.hiddenSize(), c.intermediateSize(), false));
        downProj = addChildBlock("down_proj", new LoraLinear(c.intermediateSize(), c.hiddenSize(), false));
    }

    public NDArray forward(NDArray x, boolean training) { // (B, T, H)
        NDArray gate = gateProj.forward(x, training); // (B, T, I)
        NDArray up = upProj.forward(x, training); // (B, T, I)
        NDArray silu = gate.mul(Activation.sigmoid(gate));
        return downProj.forward(silu.mul(up), training); // (B, T, H)
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
