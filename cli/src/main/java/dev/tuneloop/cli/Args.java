package dev.tuneloop.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of one verb: {@code --name value}, {@code --name=value}, bare {@code --flag}, and positional
 * arguments. Every option must be read by the verb; {@link #finish()} rejects the ones nobody asked for, by name.
 */
public final class Args {
    private final String verb;
    private final Map<String, String> options = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private final Set<String> read = new LinkedHashSet<>();

    public Args(String verb, String[] argv, Set<String> flags) {
        this.verb = verb;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--") && a.length() > 2) {
                String name = a.substring(2);
                String value;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                } else if (flags.contains(name)) {
                    value = "true";
                } else if (i + 1 < argv.length) {
                    value = argv[++i];
                } else {
                    throw new UsageException(verb + ": option --" + name + " needs a value");
                }
                if (options.put(name, value) != null) {
                    throw new UsageException(verb + ": option --" + name + " given twice");
                }
            } else {
                positional.add(a);
            }
        }
    }

    public String verb() {
        return verb;
    }

    public String string(String name) {
        read.add(name);
        String v = options.get(name);
        if (v == null) {
            throw new UsageException(verb + ": missing required option --" + name);
        }
        return v;
    }

    public String string(String name, String fallback) {
        read.add(name);
        return options.getOrDefault(name, fallback);
    }

    public boolean has(String name) {
        read.add(name);
        return options.containsKey(name);
    }

    public boolean flag(String name) {
        read.add(name);
        String v = options.get(name);
        return v != null && !v.equals("false");
    }

    public Path path(String name) {
        return Path.of(string(name));
    }

    public Path path(String name, Path fallback) {
        return has(name) ? Path.of(options.get(name)) : fallback;
    }

    public int integer(String name, int fallback) {
        return has(name) ? parseInt(name, options.get(name)) : fallback;
    }

    public long longValue(String name, long fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return Long.parseLong(options.get(name).trim());
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be an integer, got '" + options.get(name) + "'");
        }
    }

    public double number(String name, double fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return Double.parseDouble(options.get(name).trim());
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be a number, got '" + options.get(name) + "'");
        }
    }

    public List<String> list(String name, List<String> fallback) {
        if (!has(name)) {
            return fallback;
        }
        List<String> out = new ArrayList<>();
        for (String s : options.get(name).split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    public List<String> positional() {
        return positional;
    }

    /** Rejects options the verb did not read, so a misspelt option never passes silently. */
    public void finish() {
        for (String name : options.keySet()) {
            if (!read.contains(name)) {
                throw new UsageException(verb + ": unknown option --" + name + " (known: " + known() + ")");
            }
        }
    }

    private String known() {
        StringBuilder sb = new StringBuilder();
        for (String r : read) {
            sb.append(sb.length() == 0 ? "--" : ", --").append(r);
        }
        return sb.toString();
    }

    private int parseInt(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be an integer, got '" + value + "'");
        }
    }

    /** A usage error: printed without a stack trace, exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }
}
