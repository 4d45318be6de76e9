package dev.tuneloop.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraLinear;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.safetensors.DType;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import dev.tuneloop.model.safetensors.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tuneloop dump}: logits, loss and (with an adapter) the LoRA gradients of one batch, written as safetensors so
 * that another implementation can be compared tensor by tensor.
 *
 * <p>IN holds I64 {@code input_ids}, {@code attention_mask}, {@code labels} (B, T), right-padded (other tensors are
 * ignored, so a golden file can be passed as is). OUT gets F32 {@code logits} (B, T, V), {@code loss} [1] (Hugging
 * Face's shifted mean cross-entropy over labels != -100) and, with {@code --adapter}, {@code grad.<adapter key>} =
 * d loss / d that LoRA tensor, computed with LoRA dropout off.
 */
final class DumpCommand {
    private static final Logger LOG = LoggerFactory.getLogger(DumpCommand.class);
    static final String USAGE = "dump --model DIR [--adapter DIR] --batch IN.safetensors --out OUT.safetensors";

    private DumpCommand() {}

    public static int run(String[] argv) throws Exception {
        Args args = new Args("dump", argv, Set.of());
        Path modelDir = ModelPaths.resolveModel(args.string("model"));
        Path adapterDir = args.has("adapter") ? ModelPaths.resolveAdapter(args.string("adapter")) : null;
        Path in = args.path("batch");
        Path out = args.path("out");
        args.finish();
        if (!args.positional().isEmpty()) {
            throw new Args.UsageException("dump: unexpected argument '" + args.positional().get(0) + "' (usage: "
                    + USAGE + ")");
        }

        TokenBatch batch = readBatch(in);
        int labels = batch.labelCount();
        if (labels == 0) {
            throw new IllegalArgumentException(in + ": tensor 'labels' has no position != -100 after the shift"
                    + " (labels[:, 1:]), so the loss is undefined");
        }
        try (Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, ModelPaths.device())) {
            int vocab = lm.config().vocabSize();
            checkValues(in, batch, vocab);
            long logitCount = (long) batch.batchSize() * batch.seqLen() * vocab;
            if (logitCount > SafetensorsFile.MAX_ELEMENTS) {
                throw new IllegalArgumentException(in + ": logits of batch " + batch.batchSize() + " x " + batch.seqLen()
                        + " x vocabulary " + vocab + " = " + logitCount + " values, more than one tensor can hold ("
                        + SafetensorsFile.MAX_ELEMENTS + "); dump fewer rows");
            }
            if (adapterDir != null) {
                LoraAdapter.load(lm, adapterDir, true);
                for (LoraLinear p : lm.projections().values()) {
                    p.setDropout(0f); // gradients are defined without dropout, whatever the adapter config says
                }
            }
            SafetensorsWriter writer = new SafetensorsWriter();
            float loss;
            JniUtils.setGradMode(false);
            try (NDManager m = lm.manager().newSubManager()) {
                NDArray ids = m.create(batch.inputIds(), new Shape(batch.batchSize(), batch.seqLen()));
                NDArray hidden = lm.hidden(ids, batch.attentionMask(), null, false); // (B, T, H)
                writer.putFloats("logits", new long[] {batch.batchSize(), batch.seqLen(), vocab},
                        lm.logits(hidden).toFloatArray());
                loss = (float) (lm.lossSum(hidden, batch).getFloat() / labels);
            }
            writer.putFloats("loss", new long[] {1}, new float[] {loss});
            LOG.info("loss {} over {} label tokens", loss, labels);
            int grads = 0;
            if (adapterDir != null) {
                double lossSum = lm.forwardBackward(batch, 1.0 / labels, false, 0);
                LOG.info("backward pass: loss {} (forward pass: {})", lossSum / labels, loss);
                for (Map.Entry<String, Parameter> e : LoraAdapter.parameters(lm).entrySet()) {
                    NDArray value = e.getValue().getArray();
                    try (NDArray g = value.getGradient()) {
                        writer.putFloats("grad." + e.getKey(), value.getShape().getShape(), g.toFloatArray());
                    }
                    grads++;
                }
            }
            writer.write(out);
            System.out.printf("wrote %s: logits [%d, %d, %d], loss %.6f%s%n", out, batch.batchSize(), batch.seqLen(),
                    vocab, loss, adapterDir == null ? "" : ", " + grads + " LoRA gradients");
        }
        return 0;
    }

    /** The three (B, T) I64 tensors of IN, each present with the same shape. */
    static TokenBatch readBatch(Path in) throws Exception {
        try (SafetensorsFile file = SafetensorsFile.open(in)) {
            long[] shape = null;
            for (String name : new String[] {"input_ids", "attention_mask", "labels"}) {
                if (!file.contains(name)) {
                    throw new IllegalArgumentException(in + ": missing tensor '" + name + "' (I64 [B, T]); the file has "
                            + file.tensors().keySet());
                }
                TensorInfo t = file.info(name);
                if (t.dtype() != DType.I64) {
                    throw new IllegalArgumentException(in + ": tensor '" + name + "' has dtype " + t.dtype()
                            + ", expected I64");
                }
                if (t.rank() != 2 || t.shape()[0] == 0 || t.shape()[1] == 0) {
                    throw new IllegalArgumentException(in + ": tensor '" + name + "' has shape " + t.shapeString()
                            + ", expected a non-empty [B, T]");
                }
                if (shape == null) {
                    shape = t.shape();
                } else if (!Arrays.equals(shape, t.shape())) {
                    throw new IllegalArgumentException(in + ": tensor '" + name + "' has shape " + t.shapeString()
                            + ", but 'input_ids' has " + Arrays.toString(shape));
                }
            }
            if (shape[0] * shape[1] > SafetensorsFile.MAX_ELEMENTS) {
                throw new IllegalArgumentException(in + ": batch shape " + Arrays.toString(shape) + " is too large");
            }
            return new TokenBatch((int) shape[0], (int) shape[1], file.longs("input_ids"), file.longs("attention_mask"),
                    file.longs("labels"));
        }
    }

    /** Token ids inside the vocabulary, mask values 0/1, labels -100 or inside the vocabulary. */
    private static void checkValues(Path in, TokenBatch batch, int vocab) {
        for (int i = 0; i < batch.inputIds().length; i++) {
            long id = batch.inputIds()[i];
            long mask = batch.attentionMask()[i];
            long label = batch.labels()[i];
            if (id < 0 || id >= vocab) {
                throw badValue(in, "input_ids", id, i, batch, "is outside the vocabulary [0, " + vocab + ")");
            }
            if (mask != 0 && mask != 1) {
                throw badValue(in, "attention_mask", mask, i, batch, "is not 0 or 1");
            }
            if (label != TokenBatch.IGNORE_INDEX && (label < 0 || label >= vocab)) {
                throw badValue(in, "labels", label, i, batch, "is neither -100 nor inside the vocabulary [0, "
                        + vocab + ")");
            }
        }
    }

    private static IllegalArgumentException badValue(Path in, String tensor, long value, int i, TokenBatch batch,
            String why) {
        return new IllegalArgumentException(in + ": tensor '" + tensor + "' value " + value + " at row "
                + i / batch.seqLen() + ", position " + i % batch.seqLen() + " " + why);
    }
}
