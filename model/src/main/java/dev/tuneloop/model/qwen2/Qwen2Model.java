package dev.tuneloop.model.qwen2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Qwen2Model: {@code embed_tokens}, the decoder layers, the final {@code norm}. Output: normed hidden states. */
public final class Qwen2Model extends AbstractBlock {
    final Parameter embedTokens;
    final List<Qwen2DecoderLayer> layers = new ArrayList<>();
    final RmsNorm norm;

    public Qwen2Model(Qwen2Config c) {
        embedTokens = addParameter(Parameter.builder().setName("embed_tokens.weight").setType(Parameter.Type.WEIGHT)
                .build());
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            layers.add(addChildBlock("layers." + i, new Qwen2DecoderLayer(c, i)));
        }
        norm = addChildBlock("norm", new RmsNorm(c.rmsNormEps()));
    }

    /** (B, T) token ids -> (B, T, H) embeddings. An id outside the vocabulary is refused with its position. */
    public NDArray embed(NDArray inputIds) {
        // PyTorch would only say "index out of range in self"
        long vocab = embedTokens.getArray().getShape().get(0);
        long[] ids = inputIds.toLongArray();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                long t = inputIds.getShape().get(inputIds.getShape().dimension() - 1);
                throw new IllegalArgumentException("token id " + ids[i] + " at row " + i / t + ", position " + i % t
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return inputIds.getNDArrayInternal().embedding(inputIds, embedTokens.getArray(), SparseFormat.DENSE)
                .singletonOrThrow();
    }

    /** (B, T) ids -> (B, T, H) hidden states after the final norm. */
    public NDArray forward(NDArray inputIds, NDList rope, NDArray mask, KvCache cache, boolean training) {
        NDArray h = embed(inputIds); // (B, T, H)
        // Without autograd nothing needs a layer's temporaries once it is done: free them per layer, so a pass holds
        // one layer's activations, not all of them (an 8 x 200-token prefill of Qwen2.5-0.5B held ~3 GB otherwise).
        boolean perLayer = !JniUtils.isGradMode();
        for (Qwen2DecoderLayer layer : layers) {
            if (!perLayer) {
                h = layer.forward(h, rope, mask, cache, training);
                continue;
            }
            NDArray in = h;
            try (NDScope scope = new NDScope()) {
                h = layer.forward(in, rope, mask, cache, training);
                NDScope.unregister(h);
            }
            in.close(); // the embeddings or the previous layer's output, made here
        }
        if (cache != null) {
            cache.commit();
        }
        return norm.forward(h);
    }

    public List<Qwen2DecoderLayer> layers() {
        return Collections.unmodifiableList(layers);
    }

    public RmsNorm norm() {
        return norm;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(forward(in.get(0), new NDList(in.get(1), in.get(2)), in.get(3), null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape ids = inputShapes[0];
        return new Shape[] {new Shape(ids.get(0), ids.get(1), embedTokens.getArray().getShape().get(1))};
    }
}
