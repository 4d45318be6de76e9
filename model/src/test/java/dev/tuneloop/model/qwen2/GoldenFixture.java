package dev.tuneloop.model.qwen2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.Shared;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The tiny Qwen2 golden fixture from the float64 reference (../shared/fixtures/qwen2-tiny-golden). */
final class GoldenFixture {
    final Path dir = Shared.tinyGolden();
    final Path adapter = dir.resolve("adapter");
    final JsonNode json;
    final SafetensorsFile tensors;
    final TokenBatch batch;

    GoldenFixture() throws IOException {
        json = new ObjectMapper().readTree(Files.readString(dir.resolve("golden.json")));
        tensors = SafetensorsFile.open(dir.resolve("golden.safetensors"));
        long[] shape = tensors.info("input_ids").shape();
        batch = new TokenBatch((int) shape[0], (int) shape[1], tensors.longs("input_ids"),
                tensors.longs("attention_mask"), tensors.longs("labels"));
    }

    double tolerance(String key) {
        return json.get("tolerance").get(key).asDouble();
    }

    long[] ids(String key) {
        JsonNode n = json.get(key);
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asLong();
        }
        return out;
    }
}
