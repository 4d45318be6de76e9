package dev.tuneloop.model.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.qwen2.Qwen2Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where generation stops: {@code eos_token_id} (an int or a list) of {@code generation_config.json}, else of config.json. */
public final class GenerationConfig {
    private GenerationConfig() {}

    public static List<Long> eosIds(Path modelDir, Qwen2Config config) throws IOException {
        Path file = modelDir.resolve("generation_config.json");
        if (Files.exists(file)) {
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(Files.readString(file));
            } catch (IOException e) {
                throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
            }
            try {
                List<Long> ids = Qwen2Config.eosIds(root.get("eos_token_id"));
                if (!ids.isEmpty()) {
                    return ids;
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        return config.eosTokenIds();
    }
}
