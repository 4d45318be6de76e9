package dev.tuneloop.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.safetensors.CheckpointTensors;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import dev.tuneloop.model.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PEFT LoRA adapters on a {@link Qwen2ForCausalLM}: fresh initialisation, loading and saving
 * {@code adapter_config.json} + {@code adapter_model.safetensors} with PEFT's key names
 * ({@code base_model.model.<module>.lora_A.weight} (r, in), {@code ….lora_B.weight} (out, r)).
 */
public final class LoraAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(LoraAdapter.class);
    public static final String PREFIX = "base_model.model.";

    private LoraAdapter() {}

    /**
     * Fresh trainable adapter as PEFT initialises it: A Kaiming-uniform (a = √5, i.e. U(±1/√in)) or, with
     * {@code init_lora_weights="gaussian"}, N(0, 1/r); B zeros — so the model starts exactly at the base model.
     */
    public static void initialize(Qwen2ForCausalLM lm, LoraConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        NDManager m = lm.manager();
        int attached = 0;
        for (Map.Entry<String, LoraLinear> e : lm.projections().entrySet()) {
            if (!config.targets(e.getKey())) {
                continue;
            }
            LoraLinear p = e.getValue();
            int r = config.rankFor(e.getKey());
            float[] a = new float[r * p.inFeatures()];
            double bound = 1.0 / Math.sqrt(p.inFeatures());
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (config.initLoraWeights().equals("gaussian")
                        ? random.nextGaussian() / r // PEFT: normal_(std=1/r)
                        : random.nextDouble(-bound, bound));
            }
            p.attachLora(m.create(a, new Shape(r, p.inFeatures())), m.zeros(new Shape(p.outFeatures(), r)),
                    (float) config.scalingFor(e.getKey()), (float) config.loraDropout(), true);
            attached++;
        }
        if (attached == 0) {
            throw new IllegalArgumentException("target_modules " + config.targetModules() + " match no module of the model");
        }
    }

    /** Loads an adapter folder onto the model, checking that it fits; returns its config. */
    public static LoraConfig load(Qwen2ForCausalLM lm, Path adapterDir, boolean trainable) throws IOException {
        LoraWeights weights = read(lm, adapterDir);
        attach(lm, weights, trainable);
        return weights.config();
    }

    /**
     * Reads an adapter folder into host memory, checking that it fits {@code lm} (every target module present with
     * the shapes the model needs, no tensor left over); the model is not touched, so this may run beside a forward
     * pass on another thread.
     */
    public static LoraWeights read(Qwen2ForCausalLM lm, Path adapterDir) throws IOException {
        if (!Files.exists(adapterDir.resolve("adapter_model.safetensors"))
                && Files.exists(adapterDir.resolve("adapter_model.bin"))) {
            throw new IOException(adapterDir + ": adapter_model.bin is a pickle file and is never unpickled; convert it"
                    + " to adapter_model.safetensors (PEFT: save_pretrained(..., safe_serialization=True))");
        }
        LoraConfig config = LoraConfig.read(adapterDir);
        try (CheckpointTensors tensors = CheckpointTensors.open(adapterDir, "adapter_model")) {
            return read(lm, adapterDir, config, tensors);
        }
    }

    /**
     * As {@link #read(Qwen2ForCausalLM, Path)} with the weights apart from {@code configDir}, the folder with
     * {@code adapter_config.json} (the inference service reads {@code adapter_model.safetensors} from object storage
     * straight into memory). Errors about the weights name {@code tensors}' {@link CheckpointTensors#label label}.
     */
    public static LoraWeights read(Qwen2ForCausalLM lm, Path configDir, CheckpointTensors tensors) throws IOException {
        return read(lm, configDir, LoraConfig.read(configDir), tensors);
    }

    private static LoraWeights read(Qwen2ForCausalLM lm, Path configDir, LoraConfig config, CheckpointTensors tensors) {
        String base = config.baseModelNameOrPath();
        String loaded = lm.config().nameOrPath();
        if (base != null && loaded != null && !sameModel(base, loaded)) {
            LOG.warn("adapter {} was trained on base model '{}', but the loaded model is '{}'", configDir, base, loaded);
        }
        String where = tensors.source() != null ? configDir.toString() : tensors.label();
        Map<String, LoraWeights.Module> modules = new LinkedHashMap<>();
        TreeSet<String> unused = new TreeSet<>(tensors.names());
        for (Map.Entry<String, LoraLinear> e : lm.projections().entrySet()) {
            if (!config.targets(e.getKey())) {
                continue;
            }
            LoraLinear p = e.getValue();
            int r = config.rankFor(e.getKey());
            String keyA = PREFIX + e.getKey() + ".lora_A.weight";
            String keyB = PREFIX + e.getKey() + ".lora_B.weight";
            check(where, tensors, keyA, new long[] {r, p.inFeatures()});
            check(where, tensors, keyB, new long[] {p.outFeatures(), r});
            modules.put(e.getKey(), new LoraWeights.Module(r, p.inFeatures(), p.outFeatures(),
                    (float) config.scalingFor(e.getKey()), tensors.floats(keyA), tensors.floats(keyB)));
            unused.remove(keyA);
            unused.remove(keyB);
        }
        if (modules.isEmpty()) {
            throw new IllegalArgumentException(configDir + ": target_modules " + config.targetModules()
                    + " match no module of the base model");
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException(where + ": adapter tensor " + unused.first()
                    + " does not fit the base model (no such module, or not in target_modules)"
                    + (unused.size() > 1 ? " (and " + (unused.size() - 1) + " more)" : ""));
        }
        return new LoraWeights(configDir, config, modules);
    }

    /**
     * Attaches {@code weights} in place of whatever adapter the model carries (copies of the arrays; modules it does
     * not wrap lose theirs). Checked before anything changes, so a misfit leaves the model as it was.
     */
    public static void attach(Qwen2ForCausalLM lm, LoraWeights weights, boolean trainable) {
        Map<String, LoraLinear> projections = lm.projections();
        weights.modules().forEach((path, module) -> {
            LoraLinear p = projections.get(path);
            if (p == null) {
                throw new IllegalArgumentException(weights.source() + ": module " + path
                        + " is not a projection of the model");
            }
            if (p.inFeatures() != module.inFeatures() || p.outFeatures() != module.outFeatures()) {
                throw new IllegalArgumentException(weights.source() + ": module " + path + " was read for (in "
                        + module.inFeatures() + ", out " + module.outFeatures() + "), the model has (in "
                        + p.inFeatures() + ", out " + p.outFeatures() + ")");
            }
        });
        NDManager m = lm.manager();
        float dropout = (float) weights.config().loraDropout();
        for (Map.Entry<String, LoraLinear> e : projections.entrySet()) {
            LoraWeights.Module module = weights.modules().get(e.getKey());
            if (module == null) {
                e.getValue().detachLora();
                continue;
            }
            NDArray a = m.create(module.a(), new Shape(module.rank(), module.inFeatures()));
            NDArray b = m.create(module.b(), new Shape(module.outFeatures(), module.rank()));
            e.getValue().attachLora(a, b, module.scaling(), dropout, trainable);
        }
    }

    /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} (with PEFT's {"format":"pt"}). */
    public static void save(Qwen2ForCausalLM lm, LoraConfig config, Path adapterDir) throws IOException {
        if (parameters(lm).isEmpty()) {
            throw new IllegalStateException("no LoRA adapter is attached to the model: nothing to save to "
                    + adapterDir);
        }
        Files.createDirectories(adapterDir);
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        parameters(lm).forEach((key, param) -> {
            NDArray array = param.getArray();
            writer.putFloats(key, array.getShape().getShape(), array.toFloatArray());
        });
        writer.write(adapterDir.resolve("adapter_model.safetensors"));
        config.write(adapterDir, lm.config().nameOrPath());
    }

    /** Every LoRA weight under its PEFT key, in model order. */
    public static Map<String, Parameter> parameters(Qwen2ForCausalLM lm) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        lm.projections().forEach((path, p) -> {
            if (p.hasLora()) {
                out.put(PREFIX + path + ".lora_A.weight", p.loraA());
                out.put(PREFIX + path + ".lora_B.weight", p.loraB());
            }
        });
        return out;
    }

    /** PEFT's {@code print_trainable_parameters} line. */
    public static String parameterLine(Qwen2ForCausalLM lm) {
        long trainable = 0;
        for (Parameter p : parameters(lm).values()) {
            trainable += p.getArray().size();
        }
        long all = trainable;
        for (Parameter p : lm.namedParameters().values()) {
            all += p.getArray().size();
        }
        return String.format(java.util.Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable, all, 100.0 * trainable / all);
    }

    public static void detach(Qwen2ForCausalLM lm) {
        lm.projections().values().forEach(LoraLinear::detachLora);
    }

    public static void merge(Qwen2ForCausalLM lm) {
        lm.projections().values().forEach(LoraLinear::merge);
    }

    public static void unmerge(Qwen2ForCausalLM lm) {
        lm.projections().values().forEach(LoraLinear::unmerge);
    }

    private static void check(String dir, CheckpointTensors tensors, String key, long[] shape) {
        if (!tensors.names().contains(key)) {
            throw new IllegalArgumentException(dir + ": adapter lacks tensor " + key + " (expected shape "
                    + Arrays.toString(shape) + ")");
        }
        TensorInfo info = tensors.info(key);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new IllegalArgumentException(dir + ": adapter tensor " + key + " has shape "
                    + Arrays.toString(info.shape()) + ", the base model needs " + Arrays.toString(shape));
        }
    }

    private static boolean sameModel(String a, String b) {
        return a.equals(b) || Path.of(a).getFileName().toString().equals(Path.of(b).getFileName().toString())
                || b.contains("models--" + a.replace("/", "--")) || b.endsWith(a);
    }
}
