package dev.tuneloop.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.tuneloop.model.qwen2.RowSplitGemv;

/**
 * A Hugging Face {@code nn.Linear} ({@code weight} (out, in), optional {@code bias} (out)) that can carry a PEFT LoRA
 * adapter: {@code y = x W^T + b + dropout(x) A^T B^T · scaling}, with {@code lora_A.weight} (r, in) and
 * {@code lora_B.weight} (out, r). Base weights are frozen; only A and B take gradients.
 */
public final class LoraLinear extends AbstractBlock {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;
    private Parameter loraA;
    private Parameter loraB;
    private float scaling;
    private float dropout;
    private boolean merged;
    private final RowSplitGemv gemv = new RowSplitGemv();

    public LoraLinear(int inFeatures, int outFeatures, boolean withBias) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
        this.bias = withBias
                ? addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS).build())
                : null;
    }

    /** {@code (..., in) -> (..., out)}; LoRA dropout only when {@code training}. */
    public NDArray forward(NDArray x, boolean training) {
        NDArray b = bias == null ? null : bias.getArray();
        NDArray y = gemv.linear(x, weight.getArray(), b); // one decode row: split over the cores
        if (loraA == null || merged) {
            return y;
        }
        boolean drop = training && dropout > 0;
        NDArray xd = drop ? LoraDropout.dropUnscaled(x, dropout) : x; // (..., in)
        NDArray xa = xd.getNDArrayInternal().linear(xd, loraA.getArray(), null).singletonOrThrow(); // (..., r)
        if (drop) {
            xa = xa.mul(1.0 / (1.0 - dropout)); // nn.Dropout rescales kept inputs; here on the rank-r side
        }
        NDArray xab = xa.getNDArrayInternal().linear(xa, loraB.getArray(), null).singletonOrThrow(); // (..., out)
        if (!training && !JniUtils.isGradMode()) {
            // Inference: add in place and free the temporaries now. Left to the forward pass's manager, every
            // projection would keep three more (..., out) arrays alive until the pass ends (for Qwen2.5-0.5B, a
            // 64-token prefill then needed ~330 MB more than the base model). Same values as the path below.
            xa.close();
            y.addi(xab.muli(scaling));
            xab.close();
            return y;
        }
        return y.add(xab.mul(scaling));
    }

    /** Attaches an adapter (takes ownership of {@code a} (r, in) and {@code b} (out, r)). */
    public void attachLora(NDArray a, NDArray b, float scaling, float dropout, boolean trainable) {
        long r = a.getShape().get(0);
        Shape wantA = new Shape(r, inFeatures);
        Shape wantB = new Shape(outFeatures, r);
        if (!a.getShape().equals(wantA)) {
            throw new IllegalArgumentException("lora_A shape " + a.getShape() + ", expected " + wantA);
        }
        if (!b.getShape().equals(wantB)) {
            throw new IllegalArgumentException("lora_B shape " + b.getShape() + ", expected " + wantB);
        }
        detachLora();
        loraA = addParameter(Parameter.builder().setName("lora_A.weight").setType(Parameter.Type.WEIGHT).build());
        loraB = addParameter(Parameter.builder().setName("lora_B.weight").setType(Parameter.Type.WEIGHT).build());
        loraA.setArray(a);
        loraB.setArray(b);
        a.setRequiresGradient(trainable);
        b.setRequiresGradient(trainable);
        this.scaling = scaling;
        this.dropout = dropout;
    }

    /** Removes the adapter (unmerging it first if it was merged) and frees its arrays. */
    public void detachLora() {
        if (loraA == null) {
            return;
        }
        if (merged) {
            unmerge();
        }
        parameters.remove(loraA.getName());
        parameters.remove(loraB.getName());
        loraA.getArray().close();
        loraB.getArray().close();
        loraA = null;
        loraB = null;
    }

    /** Folds {@code scaling · B A} into {@code weight} in place, so serving costs one matmul per projection. */
    public void merge() {
        if (loraA != null && !merged) {
            try (NDArray delta = delta()) {
                weight.getArray().addi(delta);
            }
            merged = true;
        }
    }

    public void unmerge() {
        if (loraA != null && merged) {
            try (NDArray delta = delta()) {
                weight.getArray().subi(delta);
            }
            merged = false;
        }
    }

    private NDArray delta() {
        return loraB.getArray().matMul(loraA.getArray()).muli(scaling); // (out, r) @ (r, in)
    }

    /** LoRA dropout probability (0 turns it off, e.g. for gradient checks). */
    public void setDropout(float dropout) {
        this.dropout = dropout;
    }

    public boolean hasLora() {
        return loraA != null;
    }

    public boolean isMerged() {
        return merged;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Parameter loraA() {
        return loraA;
    }

    public Parameter loraB() {
        return loraB;
    }

    public float scaling() {
        return scaling;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(outFeatures)};
    }
}
