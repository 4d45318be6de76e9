package dev.tuneloop.model.qwen2;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.tuneloop.model.safetensors.CheckpointTensors;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import dev.tuneloop.model.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills a {@link Qwen2ForCausalLM} with weights: from a Hugging Face folder (every expected tensor present with its
 * expected shape, F32/F16/BF16 widened to FP32, nothing unexpected), or randomly for tests and benchmarks.
 */
public final class Qwen2Weights {
    private static final Logger LOG = LoggerFactory.getLogger(Qwen2Weights.class);

    private Qwen2Weights() {}

    public static Qwen2ForCausalLM load(Path modelDir, Device device) throws IOException {
        Qwen2Config config = Qwen2Config.load(modelDir);
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        Qwen2ForCausalLM lm = new Qwen2ForCausalLM(config, manager);
        try (CheckpointTensors tensors = CheckpointTensors.open(modelDir)) {
            Map<String, Parameter> expected = lm.namedParameters();
            Set<String> unexpected = new TreeSet<>(tensors.names());
            unexpected.removeAll(expected.keySet());
            List<String> ignored = new ArrayList<>();
            for (String name : List.copyOf(unexpected)) {
                // Older checkpoints store RoPE's inv_freq buffer; a tied model may still carry a copy of the head.
                if (name.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings() && name.equals("lm_head.weight"))) {
                    unexpected.remove(name);
                    ignored.add(name);
                }
            }
            if (!unexpected.isEmpty()) {
                throw new IllegalArgumentException(modelDir + ": unexpected tensors not used by Qwen2ForCausalLM ("
                        + unexpected.size() + "): " + preview(unexpected));
            }
            if (!ignored.isEmpty()) {
                LOG.warn("{}: ignoring {} tensor(s) the model recomputes or ties: {}", modelDir, ignored.size(), preview(ignored));
            }
            for (Map.Entry<String, Parameter> e : expected.entrySet()) {
                String name = e.getKey();
                long[] want = expectedShape(config, name);
                if (!tensors.names().contains(name)) {
                    throw new IllegalArgumentException(modelDir + ": missing tensor " + name + " (expected shape "
                            + Arrays.toString(want) + ")");
                }
                TensorInfo info = tensors.info(name);
                if (!Arrays.equals(info.shape(), want)) {
                    throw new IllegalArgumentException(modelDir + ": tensor " + name + " has shape "
                            + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(want));
                }
                e.getValue().setArray(manager.create(tensors.floats(name), new Shape(want)));
            }
        } catch (IOException | RuntimeException e) {
            lm.close();
            throw e;
        }
        return lm;
    }

    /**
     * Random weights as Hugging Face initialises them (normal(0, 0.02) matrices, zero biases, unit norms), except the
     * embedding, whose standard deviation is given: tiny test models need ≈ 0.2 so that LoRA can move the logits.
     */
    public static Qwen2ForCausalLM random(Qwen2Config config, Device device, long seed, double embedStd) {
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        Qwen2ForCausalLM lm = new Qwen2ForCausalLM(config, manager);
        Engine.getEngine("PyTorch").setRandomSeed((int) seed);
        for (Map.Entry<String, Parameter> e : lm.namedParameters().entrySet()) {
            String name = e.getKey();
            Shape shape = new Shape(expectedShape(config, name));
            NDArray value;
            if (name.endsWith("norm.weight")) {
                value = manager.ones(shape);
            } else if (name.endsWith(".bias")) {
                value = manager.zeros(shape);
            } else {
                double std = name.equals("model.embed_tokens.weight") ? embedStd : 0.02;
                value = manager.randomNormal(0f, (float) std, shape, DataType.FLOAT32);
            }
            e.getValue().setArray(value);
        }
        return lm;
    }

    /** Writes {@code model.safetensors} (F32, HF names) into a model folder; {@code config.json} is the caller's. */
    public static void save(Qwen2ForCausalLM lm, Path modelDir) throws IOException {
        java.nio.file.Files.createDirectories(modelDir);
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, Parameter> e : lm.namedParameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            writer.putFloats(e.getKey(), a.getShape().getShape(), a.toFloatArray());
        }
        writer.write(modelDir.resolve("model.safetensors"));
    }

    /** The Hugging Face shape of each named weight. */
    public static long[] expectedShape(Qwen2Config c, String name) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        if (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) {
            return new long[] {c.vocabSize(), h};
        }
        if (name.endsWith("norm.weight")) {
            return new long[] {h};
        }
        String leaf = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
        return switch (leaf) {
            case "q_proj.weight" -> new long[] {q, h};
            case "q_proj.bias" -> new long[] {q};
            case "k_proj.weight", "v_proj.weight" -> new long[] {kv, h};
            case "k_proj.bias", "v_proj.bias" -> new long[] {kv};
            case "o_proj.weight" -> new long[] {h, q};
            case "gate_proj.weight", "up_proj.weight" -> new long[] {inter, h};
            case "down_proj.weight" -> new long[] {h, inter};
            default -> throw new IllegalArgumentException("no known shape for tensor " + name);
        };
    }

    private static String preview(java.util.Collection<String> names) {
        List<String> list = new ArrayList<>(names);
        return list.size() <= 8 ? String.join(", ", list) : String.join(", ", list.subList(0, 8)) + ", …";
    }
}
