package dev.tuneloop.model.lora;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An adapter read into host memory and checked against a model, but not attached to it: a server prepares the next
 * adapter off the request path with {@link LoraAdapter#read} and attaches it later with {@link LoraAdapter#attach}
 * (attaching copies the arrays, so one {@code LoraWeights} can be attached again and again).
 *
 * @param source  the adapter folder it was read from, for messages
 * @param modules by module path ({@code model.layers.3.self_attn.q_proj}), in model order
 */
public record LoraWeights(Path source, LoraConfig config, Map<String, Module> modules) {

    /**
     * One wrapped projection.
     *
     * @param a {@code lora_A.weight} (r, in) row-major
     * @param b {@code lora_B.weight} (out, r) row-major
     */
    public record Module(int rank, int inFeatures, int outFeatures, float scaling, float[] a, float[] b) {
        public Module {
            if (a.length != (long) rank * inFeatures || b.length != (long) outFeatures * rank) {
                throw new IllegalArgumentException("LoRA module arrays hold " + a.length + " and " + b.length
                        + " values, expected (r " + rank + ", in " + inFeatures + ") and (out " + outFeatures
                        + ", r " + rank + ")");
            }
        }
    }

    public LoraWeights {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException(source + ": an adapter needs at least one module");
        }
        modules = Collections.unmodifiableMap(new LinkedHashMap<>(modules));
    }

    /** LoRA parameters (A and B) over all modules. */
    public long parameterCount() {
        long n = 0;
        for (Module m : modules.values()) {
            n += m.a().length + m.b().length;
        }
        return n;
    }

    /** Bytes of the float32 arrays: what attaching adds to the model's memory. */
    public long bytes() {
        return parameterCount() * Float.BYTES;
    }
}
