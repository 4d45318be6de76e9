package dev.tuneloop.contracts;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** The PEFT adapter files a checkpoint or a promotion must list: a file name maps to its stored object. */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private AdapterFiles() {}

    /**
     * Checks that {@code files} lists both adapter files under plain file names and, when {@code uriPrefix} is given,
     * that each object lies directly under it; returns an unmodifiable copy sorted by name.
     */
    static Map<String, StoredObject> require(String record, Map<String, StoredObject> files, String uriPrefix) {
        Check.present(record, "files", files);
        for (String required : new String[] {CONFIG, WEIGHTS}) {
            if (!files.containsKey(required)) {
                throw new IllegalArgumentException(
                        record + ".files must contain " + required + ", got " + files.keySet());
            }
        }
        for (String name : files.keySet()) {
            if (name == null || name.isBlank() || name.contains("/") || name.contains("\\") || name.equals("..")) {
                throw new IllegalArgumentException(
                        record + ".files keys must be plain file names, got " + Check.quote(name));
            }
        }
        Map<String, StoredObject> copy = new TreeMap<>(files);
        copy.forEach((name, object) -> {
            Check.present(record, "files[" + name + "]", object);
            if (uriPrefix != null && !object.uri().equals(uriPrefix + name)) {
                throw new IllegalArgumentException(record + ".files[" + name + "].uri must be " + uriPrefix + name
                        + " (uriPrefix + file name), got " + object.uri());
            }
        });
        return Collections.unmodifiableMap(copy);
    }
}
