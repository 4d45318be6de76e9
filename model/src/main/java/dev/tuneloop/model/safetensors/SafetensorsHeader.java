package dev.tuneloop.model.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/** The parsed and validated JSON header of one safetensors file. */
record SafetensorsHeader(SortedMap<String, String> metadata, SortedMap<String, TensorInfo> tensors) {

    /** The reference implementation's limit; checked before the header is read into memory. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

    /** Strict JSON: duplicate keys and anything after the top-level value are errors. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * Parses {@code json} (the header bytes) and checks every entry against a data section of {@code dataLength}
     * bytes: known dtype, non-negative shape, offsets matching numel * dtype size, and tensors covering the data
     * section exactly (sorted by offset: no overlap, no hole, nothing after the last one).
     */
    static SafetensorsHeader parse(String file, byte[] json, long dataLength) throws SafetensorsFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getByteOffset();
            throw new SafetensorsFormatException(file + ": header (" + json.length + " bytes) is not valid JSON"
                    + (at >= 0 ? " at byte " + at + " of the header" : "") + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SafetensorsFormatException(file + ": header (" + json.length + " bytes) could not be parsed: "
                    + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file + ": header must be a JSON object, got "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        SortedMap<String, String> metadata = new TreeMap<>();
        SortedMap<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                metadata.putAll(stringMap(file, field.getValue()));
            } else {
                tensors.put(field.getKey(), entry(file, field.getKey(), field.getValue()));
            }
        }
        checkCoverage(file, tensors.values(), dataLength);
        return new SafetensorsHeader(Collections.unmodifiableSortedMap(metadata),
                Collections.unmodifiableSortedMap(tensors));
    }

    private static SortedMap<String, String> stringMap(String file, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file + ": " + METADATA_KEY + " must be an object of strings, got "
                    + node.getNodeType().toString().toLowerCase() + " " + abbreviate(node));
        }
        SortedMap<String, String> map = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(file + ": " + METADATA_KEY + "['" + e.getKey()
                        + "'] must be a string, got " + abbreviate(e.getValue()));
            }
            map.put(e.getKey(), e.getValue().textValue());
        }
        return map;
    }

    private static TensorInfo entry(String file, String name, JsonNode node) throws SafetensorsFormatException {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsFormatException(where + " must be an object with dtype, shape and data_offsets, got "
                    + abbreviate(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String f = e.getKey();
            if (!ENTRY_FIELDS.contains(f)) {
                throw new SafetensorsFormatException(where + " has unexpected field '" + f
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dtypeNode = required(where, node, "dtype");
        if (!dtypeNode.isTextual()) {
            throw new SafetensorsFormatException(where + ": dtype must be a string, got " + abbreviate(dtypeNode));
        }
        DType dtype;
        try {
            dtype = DType.parse(dtypeNode.textValue());
        } catch (IllegalArgumentException e) {
            throw new SafetensorsFormatException(where + ": " + e.getMessage(), e);
        }
        long[] shape = longArray(where, "shape", required(where, node, "shape"));
        long[] offsets = longArray(where, "data_offsets", required(where, node, "data_offsets"));
        if (offsets.length != 2) {
            throw new SafetensorsFormatException(where + ": data_offsets must be [begin, end], got "
                    + abbreviate(node.get("data_offsets")));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new SafetensorsFormatException(where + ": data_offsets begin " + begin + " > end " + end);
        }
        long expectedBytes;
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            expectedBytes = Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(where + ": shape " + Arrays.toString(shape)
                    + " has more elements than a long can count");
        }
        if (expectedBytes != end - begin) {
            throw new SafetensorsFormatException(where + ": shape " + Arrays.toString(shape) + " x " + dtype
                    + " (" + dtype.bytes() + " bytes) needs " + expectedBytes + " bytes but data_offsets [" + begin
                    + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonNode required(String where, JsonNode node, String field) throws SafetensorsFormatException {
        JsonNode v = node.get(field);
        if (v == null) {
            throw new SafetensorsFormatException(where + " is missing '" + field + "'");
        }
        return v;
    }

    private static long[] longArray(String where, String field, JsonNode node) throws SafetensorsFormatException {
        if (!node.isArray()) {
            throw new SafetensorsFormatException(where + ": " + field + " must be an array of integers, got "
                    + abbreviate(node));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new SafetensorsFormatException(where + ": " + field + "[" + i + "] must be a non-negative "
                        + "integer, got " + abbreviate(v));
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkCoverage(String file, Collection<TensorInfo> infos, long dataLength)
            throws SafetensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end)
                .thenComparing(TensorInfo::name));
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.end() > dataLength) {
                throw new SafetensorsFormatException(file + ": tensor '" + t.name() + "' data_offsets [" + t.begin()
                        + ", " + t.end() + "] run past the end of the data section (" + dataLength + " bytes)");
            }
            if (t.begin() < covered) {
                throw new SafetensorsFormatException(file + ": tensor '" + t.name() + "' bytes [" + t.begin() + ", "
                        + t.end() + ") overlap tensor '" + previous.name() + "' bytes [" + previous.begin() + ", "
                        + previous.end() + ")");
            }
            if (t.begin() > covered) {
                throw new SafetensorsFormatException(file + ": data section has a hole: bytes [" + covered + ", "
                        + t.begin() + ") before tensor '" + t.name() + "' belong to no tensor"
                        + (previous == null ? ""
                                : " (previous tensor '" + previous.name() + "' ends at " + covered + ")"));
            }
            covered = t.end();
            previous = t;
        }
        if (covered != dataLength) {
            throw new SafetensorsFormatException(file + ": data section is " + dataLength
                    + " bytes but its tensors cover " + covered + ": " + (dataLength - covered) + " trailing bytes "
                    + (previous == null ? "with no tensor in the header"
                            : "after the last tensor '" + previous.name() + "'"));
        }
    }

    private static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
