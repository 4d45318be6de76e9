package dev.tuneloop.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.TokenBatch;
import dev.tuneloop.model.safetensors.DType;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny golden fixture's files read into memory, variants of its model and adapter folders written to a test's temp
 * folder, and the logits probe the tests compare.
 */
public final class GoldenVariants {
    /** A tensor widened to float. */
    public record Tensor(long[] shape, float[] values) {
        public Tensor copy() {
            return new Tensor(shape.clone(), values.clone());
        }
    }

    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GoldenVariants() {}

    public static Path dir() {
        return Shared.tinyGolden();
    }

    public static Path adapterDir() {
        return dir().resolve("adapter");
    }

    /** Every tensor of a safetensors file, in name order. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            f.tensors().forEach((name, info) -> out.put(name, new Tensor(info.shape(), f.floats(name))));
        }
        return out;
    }

    public static Map<String, Tensor> modelTensors() throws IOException {
        return read(dir().resolve("model.safetensors"));
    }

    public static Map<String, Tensor> adapterTensors() throws IOException {
        return read(adapterDir().resolve("adapter_model.safetensors"));
    }

    public static ObjectNode json(Path file) throws IOException {
        return (ObjectNode) JSON.readTree(Files.readString(file));
    }

    public static ObjectNode modelConfig() throws IOException {
        return json(dir().resolve("config.json"));
    }

    public static ObjectNode adapterConfig() throws IOException {
        return json(adapterDir().resolve("adapter_config.json"));
    }

    public static void writeJson(Path file, JsonNode node) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writeValueAsString(node));
    }

    public static void write(Path file, Map<String, Tensor> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::metadata);
        tensors.forEach((name, t) -> w.putFloats(name, t.shape(), t.values(), dtype));
        w.write(file);
    }

    /** {@code dir/config.json} + {@code dir/model.safetensors} (F32); returns {@code dir}. */
    public static Path modelFolder(Path dir, ObjectNode config, Map<String, Tensor> tensors) throws IOException {
        writeJson(dir.resolve("config.json"), config);
        write(dir.resolve("model.safetensors"), tensors, DType.F32, Map.of("format", "pt"));
        return dir;
    }

    /** {@code dir/adapter_config.json} + {@code dir/adapter_model.safetensors} (F32); returns {@code dir}. */
    public static Path adapterFolder(Path dir, ObjectNode config, Map<String, Tensor> tensors) throws IOException {
        writeJson(dir.resolve("adapter_config.json"), config);
        write(dir.resolve("adapter_model.safetensors"), tensors, DType.F32, Map.of("format", "pt"));
        return dir;
    }

    /** The golden batch: 2 × 12, second row right-padded, prompt positions labelled -100. */
    public static TokenBatch goldenBatch() throws IOException {
        try (SafetensorsFile g = SafetensorsFile.open(dir().resolve("golden.safetensors"))) {
            long[] shape = g.info("input_ids").shape();
            return new TokenBatch((int) shape[0], (int) shape[1], g.longs("input_ids"), g.longs("attention_mask"),
                    g.longs("labels"));
        }
    }

    /** Logits (B, T, V) of an inference forward pass, row-major. */
    public static float[] logits(Qwen2ForCausalLM lm, TokenBatch batch) {
        try (NDManager m = lm.manager().newSubManager()) {
            NDArray ids = m.create(batch.inputIds(), new Shape(batch.batchSize(), batch.seqLen()));
            return lm.logits(lm.hidden(ids, batch.attentionMask(), null, false)).toFloatArray();
        }
    }

    /** Largest |a - b| over positions whose attention mask is 1 (padded positions are unspecified). */
    public static double maxAbsDiff(float[] a, float[] b, TokenBatch batch) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        int per = a.length / batch.attentionMask().length;
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            if (batch.attentionMask()[i / per] == 1) {
                max = Math.max(max, Math.abs((double) a[i] - b[i]));
            }
        }
        return max;
    }

    /** Index of the first element whose bits differ, or -1. */
    public static int firstBitDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            return 0;
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                return i;
            }
        }
        return -1;
    }
}
