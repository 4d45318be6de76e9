package dev.tuneloop.deploy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The configuration keys a service declares, read by reflection from its {@code @ConfigMapping} interfaces the way
 * SmallRye names them: the prefix, then each method in kebab case ({@code maxBatchSize} → {@code max-batch-size}) or
 * its {@code @WithName}, groups nested, a {@code Map} as one wildcard segment ({@code *}). A key is required when it
 * has no {@code @WithDefault}, is not {@code Optional} and is not inside a map.
 */
record DeclaredKeys(List<String> keys, List<String> required) {

    static DeclaredKeys of(Class<?>... mappings) {
        List<String> keys = new ArrayList<>();
        List<String> required = new ArrayList<>();
        for (Class<?> mapping : mappings) {
            ConfigMapping annotation = mapping.getAnnotation(ConfigMapping.class);
            if (annotation == null) {
                throw new IllegalArgumentException(mapping.getName() + " has no @ConfigMapping");
            }
            collect(mapping, annotation.prefix(), false, keys, required);
        }
        return new DeclaredKeys(List.copyOf(keys), List.copyOf(required));
    }

    /**
     * The environment variable SmallRye reads for {@code key}: every character other than a letter or digit becomes
     * '_', then upper case ({@code tuneloop.storage.access-key} → {@code TUNELOOP_STORAGE_ACCESS_KEY}).
     */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }

    /** True when {@code variable} sets one of the keys (a map's wildcard segment matches any non-empty text). */
    boolean declares(String variable) {
        return keys.stream().anyMatch(key -> envPattern(key).matcher(variable).matches());
    }

    /** The environment names of the required keys that {@code variables} leaves out. */
    List<String> missingRequired(java.util.Collection<String> variables) {
        return required.stream().map(DeclaredKeys::envName).filter(name -> !variables.contains(name)).toList();
    }

    /** Names in {@code variables} starting with {@code TUNELOOP_} that set no declared key, sorted. */
    List<String> undeclared(java.util.Collection<String> variables) {
        return new TreeSet<>(variables).stream()
                .filter(name -> name.startsWith("TUNELOOP_"))
                .filter(name -> !declares(name))
                .toList();
    }

    private static Pattern envPattern(String key) {
        StringBuilder regex = new StringBuilder();
        String[] parts = key.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append("[A-Z0-9_]+");
            }
            regex.append(Pattern.quote(envName(parts[i])));
        }
        return Pattern.compile(regex.toString());
    }

    private static void collect(Class<?> type, String prefix, boolean inMap, List<String> keys,
            List<String> required) {
        for (Method m : type.getMethods()) {
            if (m.isDefault() || Modifier.isStatic(m.getModifiers()) || m.getParameterCount() != 0) {
                continue;
            }
            WithName withName = m.getAnnotation(WithName.class);
            String name = withName != null ? withName.value() : kebab(m.getName());
            String key = m.isAnnotationPresent(WithParentName.class) ? prefix : prefix + "." + name;
            Class<?> raw = m.getReturnType();
            if (raw == Map.class) {
                Type value = ((ParameterizedType) m.getGenericReturnType()).getActualTypeArguments()[1];
                if (value instanceof Class<?> valueClass && isGroup(valueClass)) {
                    collect(valueClass, key + ".*", true, keys, required);
                } else {
                    keys.add(key + ".*");
                }
            } else if (isGroup(raw)) {
                collect(raw, key, inMap, keys, required);
            } else {
                keys.add(key);
                boolean optional = raw == Optional.class || raw == OptionalInt.class || raw == OptionalLong.class
                        || raw == OptionalDouble.class;
                if (!inMap && !optional && !m.isAnnotationPresent(WithDefault.class)) {
                    required.add(key);
                }
            }
        }
    }

    /** A nested group of the mapping (an interface of ours), not a value type. */
    private static boolean isGroup(Class<?> type) {
        return type.isInterface() && type.getName().startsWith("dev.tuneloop.");
    }

    private static String kebab(String methodName) {
        StringBuilder b = new StringBuilder();
        for (char c : methodName.toCharArray()) {
            if (Character.isUpperCase(c)) {
                b.append('-').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
