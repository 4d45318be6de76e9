package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Qwen2RMSNorm: {@code weight * x / sqrt(mean(x^2, -1) + eps)}, no mean subtraction, no bias. */
public final class RmsNorm extends AbstractBlock {
    private final Parameter weight;
    private final float eps;

    public RmsNorm(double eps) {
        this.eps = (float) eps;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA).build());
    }

    public NDArray forward(NDArray x) { // (..., H)
        NDArray variance = x.square().mean(new int[] {-1}, true); // (..., 1)
        return x.div(variance.add(eps).sqrt()).mul(weight.getArray());
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
