package dev.tuneloop.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Dockerfile read into stages of instructions (continuation lines joined, comments dropped). */
record Dockerfile(Path file, Map<String, List<Instruction>> stages) {
    private static final Pattern FROM = Pattern.compile("(?i)FROM\\s+(\\S+)(?:\\s+AS\\s+(\\S+))?");
    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)");

    record Instruction(String keyword, String arguments) {}

    static Dockerfile read(Path file) {
        List<String> logical = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        try {
            for (String line : Files.readAllLines(file)) {
                String trimmed = line.strip();
                if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
                    continue;
                }
                if (trimmed.startsWith("#")) {
                    continue; // a comment inside a continued instruction
                }
                if (trimmed.endsWith("\\")) {
                    current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                } else {
                    current.append(trimmed);
                    logical.add(current.toString());
                    current.setLength(0);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Map<String, List<Instruction>> stages = new LinkedHashMap<>();
        List<Instruction> stage = new ArrayList<>();
        stages.put("(global)", stage);
        for (String line : logical) {
            String[] parts = line.split("\\s+", 2);
            String keyword = parts[0].toUpperCase(Locale.ROOT);
            String arguments = parts.length > 1 ? parts[1] : "";
            if (keyword.equals("FROM")) {
                Matcher m = FROM.matcher(line);
                if (!m.matches()) {
                    throw new IllegalArgumentException(file + ": cannot read FROM line <" + line + ">");
                }
                stage = new ArrayList<>();
                stages.put(m.group(2) != null ? m.group(2) : "stage" + stages.size(), stage);
            }
            stage.add(new Instruction(keyword, arguments));
        }
        return new Dockerfile(file, stages);
    }

    List<Instruction> stage(String name) {
        List<Instruction> stage = stages.get(name);
        if (stage == null) {
            throw new AssertionError(file + " has no stage " + name + "; stages: " + stages.keySet());
        }
        return stage;
    }

    /** The stage's instructions with keyword, e.g. all USER lines. */
    static List<String> all(List<Instruction> stage, String keyword) {
        return stage.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
    }

    /** ENV values set in the stage, in order (later wins). Quotes around values are removed. */
    static Map<String, String> env(List<Instruction> stage) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String arguments : all(stage, "ENV")) {
            Matcher m = ENV_PAIR.matcher(arguments);
            while (m.find()) {
                String value = m.group(2);
                env.put(m.group(1), value.startsWith("\"") ? value.substring(1, value.length() - 1) : value);
            }
        }
        return env;
    }
}
