package dev.tuneloop.model.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which files of a repository to fetch.
 *
 * @param required           files that must exist (a 404 is an error)
 * @param optional           files fetched when present (a 404 is fine)
 * @param safetensorsWeights also fetch the weights: {@code model.safetensors}, or when the repository has none,
 *                           {@code model.safetensors.index.json} and every shard it names
 */
public record HubFiles(List<String> required, List<String> optional, boolean safetensorsWeights) {
    public static final String SINGLE_WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+=-]*");

    public HubFiles {
        required = List.copyOf(required);
        optional = List.copyOf(optional);
        if (required.isEmpty() && !safetensorsWeights) {
            throw new IllegalArgumentException("nothing required: name at least one required file or the weights");
        }
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        for (String f : required) {
            checkFileName(f, "required file");
            if (!seen.add(f)) {
                throw new IllegalArgumentException("file '" + f + "' is listed twice");
            }
        }
        for (String f : optional) {
            checkFileName(f, "optional file");
            if (!seen.add(f)) {
                throw new IllegalArgumentException("file '" + f + "' is listed twice (required and optional?)");
            }
        }
    }

    /** A Qwen2-style causal LM: config, tokenizer and safetensors weights. */
    public static HubFiles model() {
        return new HubFiles(List.of("config.json", "tokenizer.json"),
                List.of("generation_config.json", "tokenizer_config.json"), true);
    }

    /** Exactly these files, all required. */
    public static HubFiles required(List<String> files) {
        return new HubFiles(files, List.of(), false);
    }

    /** Every named file, required first; without the weights, which depend on what the repository holds. */
    List<String> named() {
        List<String> all = new ArrayList<>(required);
        all.addAll(optional);
        return all;
    }

    /**
     * Checks a repository-relative file name ({@code a/b.json}) before it becomes a path in the cache: no absolute
     * path, no '..', no backslash, no empty or hidden segment.
     */
    static String checkFileName(String file, String what) {
        if (file == null || file.isEmpty()) {
            throw new IllegalArgumentException(what + " name is empty");
        }
        if (file.length() > 512) {
            throw new IllegalArgumentException(what + " name '" + file.substring(0, 64) + "...' is longer than 512");
        }
        for (String segment : file.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.contains("..")) {
                throw new IllegalArgumentException(what + " name '" + file + "' is not a plain relative path "
                        + "(segment '" + segment + "': letters, digits, '.', '_', '-', '+', '=', no '..', "
                        + "no leading '.')");
            }
        }
        return file;
    }

    /** The shard files named by the {@code weight_map} of a {@code model.safetensors.index.json}, sorted. */
    static List<String> shardsIn(Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new IOException("cannot parse " + index + ": " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new IOException(index + ": field 'weight_map' must be a non-empty object {tensor: shard file}, got "
                    + (map == null ? "nothing" : map.getNodeType()));
        }
        TreeSet<String> shards = new TreeSet<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new IOException(index + ": weight_map['" + e.getKey() + "'] must be a file name, got "
                        + e.getValue());
            }
            try {
                shards.add(checkFileName(e.getValue().asText(), "shard"));
            } catch (IllegalArgumentException bad) {
                throw new IOException(index + ": weight_map['" + e.getKey() + "']: " + bad.getMessage(), bad);
            }
        }
        return List.copyOf(shards);
    }
}
