package dev.tuneloop.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The weights of a Hugging Face model or adapter folder: either {@code <stem>.safetensors} or a sharded checkpoint,
 * {@code <stem>.safetensors.index.json} ({@code {"metadata": {..}, "weight_map": {tensor: shard file}}}) plus its
 * shards. Every shard is opened and cross-checked against the weight map when the checkpoint is opened.
 */
public final class CheckpointTensors implements AutoCloseable {
    public static final String DEFAULT_STEM = "model";

    private final Path source;
    private final Map<String, String> metadata;
    private final SortedMap<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> files;

    private CheckpointTensors(Path source, Map<String, String> metadata, SortedMap<String, SafetensorsFile> byTensor,
            List<SafetensorsFile> files) {
        this.source = source;
        this.metadata = metadata;
        this.byTensor = byTensor;
        this.files = files;
    }

    /** Opens {@code model.safetensors} or {@code model.safetensors.index.json} in {@code dir}. */
    public static CheckpointTensors open(Path dir) throws IOException {
        return open(dir, DEFAULT_STEM);
    }

    /**
     * Opens {@code <stem>.safetensors} or {@code <stem>.safetensors.index.json} in {@code dir} (exactly one of them
     * must exist).
     */
    public static CheckpointTensors open(Path dir, String stem) throws IOException {
        Path single = dir.resolve(stem + ".safetensors");
        Path index = dir.resolve(stem + ".safetensors.index.json");
        boolean hasSingle = Files.isRegularFile(single);
        boolean hasIndex = Files.isRegularFile(index);
        if (hasSingle && hasIndex) {
            throw new SafetensorsFormatException(dir + " has both " + single.getFileName() + " and "
                    + index.getFileName() + "; it is ambiguous which holds the weights (remove one)");
        }
        if (hasSingle) {
            return of(SafetensorsFile.open(single));
        }
        if (hasIndex) {
            return openSharded(dir, index);
        }
        throw new NoSuchFileException(dir.toString(), null, "no checkpoint weights: looked for "
                + single.getFileName() + " and " + index.getFileName() + "; the folder contains " + listing(dir));
    }

    /** The tensors of one file, opened or {@link SafetensorsFile#read read from memory}; closing closes it. */
    public static CheckpointTensors of(SafetensorsFile file) {
        SortedMap<String, SafetensorsFile> byTensor = new TreeMap<>();
        file.tensors().keySet().forEach(name -> byTensor.put(name, file));
        return new CheckpointTensors(file.path(), file.metadata(), byTensor, List.of(file));
    }

    /** The single file, or the index of a sharded checkpoint; {@code null} for a file read from memory. */
    public Path source() {
        return source;
    }

    /** All tensor names, sorted. */
    public Set<String> names() {
        return Collections.unmodifiableSet(byTensor.keySet());
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    public float[] floats(String name) {
        return file(name).floats(name);
    }

    public long[] longs(String name) {
        return file(name).longs(name);
    }

    /** The file holding {@code name} (its shard, for a sharded checkpoint). */
    public Path fileOf(String name) {
        return file(name).path();
    }

    /**
     * The single file's {@code __metadata__}, or the index's {@code metadata} object with non-string values (such as
     * {@code total_size}) in their JSON text form.
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        closeAll(files, null);
    }

    @Override
    public String toString() {
        return "CheckpointTensors[" + label() + ", " + byTensor.size() + " tensors in " + files.size() + " file(s)]";
    }

    /** What errors call these tensors: the file, the index, or the name of a file read from memory. */
    public String label() {
        return source != null ? source.toString() : files.get(0).name();
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new IllegalArgumentException(label() + ": no tensor '" + name + "' (the checkpoint has "
                    + byTensor.size() + " tensors)");
        }
        return f;
    }

    private static CheckpointTensors openSharded(Path dir, Path index) throws IOException {
        JsonNode root;
        try {
            root = SafetensorsHeader.JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(index + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(index + " must be a JSON object with 'weight_map'");
        }
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (!field.getKey().equals("metadata") && !field.getKey().equals("weight_map")) {
                throw new SafetensorsFormatException(index + ": unexpected key '" + field.getKey()
                        + "' (expected metadata, weight_map)");
            }
        }
        Map<String, String> metadata = new TreeMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new SafetensorsFormatException(index + ": 'metadata' must be an object, got " + meta);
            }
            for (Map.Entry<String, JsonNode> e : meta.properties()) {
                metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
            }
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafetensorsFormatException(index + ": 'weight_map' must be an object {tensor: shard file}, got "
                    + (weightMap == null ? "nothing" : weightMap.toString()));
        }
        Map<String, Set<String>> tensorsByShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            JsonNode shard = e.getValue();
            if (!shard.isTextual() || !isPlainFileName(shard.textValue())) {
                throw new SafetensorsFormatException(index + ": weight_map['" + e.getKey()
                        + "'] must be a file name in the same folder, got " + shard);
            }
            tensorsByShard.computeIfAbsent(shard.textValue(), k -> new LinkedHashSet<>()).add(e.getKey());
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            SortedMap<String, SafetensorsFile> byTensor = new TreeMap<>();
            for (Map.Entry<String, Set<String>> e : tensorsByShard.entrySet()) {
                Path shardPath = dir.resolve(e.getKey());
                if (!Files.isRegularFile(shardPath)) {
                    throw new SafetensorsFormatException(index + ": shard " + e.getKey() + " (holding "
                            + e.getValue().size() + " tensors, e.g. '" + e.getValue().iterator().next()
                            + "') is missing: "
                            + shardPath + " does not exist");
                }
                SafetensorsFile shard = SafetensorsFile.open(shardPath);
                files.add(shard);
                for (String name : e.getValue()) {
                    if (!shard.contains(name)) {
                        throw new SafetensorsFormatException(index + ": weight_map puts tensor '" + name + "' in "
                                + shardPath + ", which has no such tensor");
                    }
                    byTensor.put(name, shard);
                }
                for (String name : shard.tensors().keySet()) {
                    if (!e.getValue().contains(name)) {
                        String mapped = weightMap.has(name) ? "weight_map puts it in " + weightMap.get(name).textValue()
                                : "it is not in weight_map";
                        throw new SafetensorsFormatException(shardPath + ": unexpected tensor '" + name + "' ("
                                + mapped + " of " + index + ")");
                    }
                }
            }
            return new CheckpointTensors(index, Collections.unmodifiableMap(metadata), byTensor, List.copyOf(files));
        } catch (IOException | RuntimeException e) {
            closeAll(files, e);
            throw e;
        }
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && !name.contains("/")
                && !name.contains("\\") && !name.contains("\0");
    }

    private static String listing(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "nothing (" + dir + " is not a folder)";
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            if (names.isEmpty()) {
                return "nothing";
            }
            String shown = names.stream().limit(30).collect(Collectors.joining(", "));
            return "[" + shown + (names.size() > 30 ? ", ... " + (names.size() - 30) + " more" : "") + "]";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static void closeAll(List<SafetensorsFile> files, Throwable primary) {
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
