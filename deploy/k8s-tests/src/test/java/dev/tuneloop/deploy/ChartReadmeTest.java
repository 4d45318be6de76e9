package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** deploy/k8s/README.md documents every value (with its default) and every variable the chart sets. */
class ChartReadmeTest {
    /** Maps documented as one row (their default as a whole) instead of key by key. */
    private static final Set<String> WHOLE = Set.of("resources", "list");
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| (.*?) \\| (.*) \\|$");
    private static final Pattern CODE = Pattern.compile("`([A-Za-z_][A-Za-z0-9_]*)`");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Path README = Chart.tuneloop().dir().getParent().resolve("README.md");

    @Test
    void valuesTableHasEveryKeyWithItsDefault() throws IOException {
        JsonNode values = new YAMLMapper().readTree(Chart.tuneloop().dir().resolve("values.yaml").toFile());
        Map<String, JsonNode> keys = new LinkedHashMap<>();
        flatten(values, "", keys);
        Map<String, String> documented = new LinkedHashMap<>();
        for (String line : section("## Values")) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                documented.put(m.group(1), m.group(2));
            }
        }

        assertEquals(new TreeSet<>(keys.keySet()), new TreeSet<>(documented.keySet()), "keys in the README's table");
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : keys.entrySet()) {
            String cell = documented.get(e.getKey());
            if (cell.startsWith("`") && cell.endsWith("`")) {
                JsonNode documentedDefault = JSON.readTree(cell.substring(1, cell.length() - 1));
                if (!documentedDefault.equals(e.getValue())) {
                    wrong.add(e.getKey() + ": README says " + cell + ", values.yaml has " + e.getValue());
                }
            } else if (!e.getValue().isContainerNode()) {
                wrong.add(e.getKey() + ": a scalar default must be given as `json`, got " + cell);
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyVariableTheChartSetsIsInTheContractTable() throws IOException {
        Rendered rendered = Chart.tuneloop().render(
                Path.of("src/test/resources/all-features.yaml").toAbsolutePath());
        Set<String> set = new TreeSet<>();
        for (var cm : rendered.ofKind("ConfigMap")) {
            cm.path("data").fieldNames().forEachRemaining(set::add);
        }
        for (var d : rendered.ofKind("Deployment")) {
            d.at("/spec/template/spec/containers/0/env").forEach(e -> set.add(e.path("name").asText()));
        }
        // all-features.yaml's own <component>.config entries
        set.remove("TUNELOOP_ORCHESTRATOR_PROMOTION_MARGIN");
        set.remove("TUNELOOP_INFERENCE_LIMITS_MAX_TOKENS");

        Set<String> documented = new TreeSet<>();
        for (String line : section("## Configuration the services read")) {
            if (line.startsWith("| `") && !line.startsWith("| `<component>")) {
                Matcher m = CODE.matcher(line.substring(0, line.indexOf(" | ", 2)));
                while (m.find()) {
                    documented.add(m.group(1));
                }
            }
        }
        assertEquals(set, documented);
    }

    @Test
    void runOnKubernetesCoversTheOperations() throws IOException {
        String readme = Files.readString(README);
        for (String heading : List.of("## Run on Kubernetes", "### Install", "### Upgrade", "### Scale trainers",
                "### Roll back an adapter", "### Uninstall")) {
            assertTrue(readme.contains("\n" + heading + "\n"), "README lacks " + heading);
        }
        for (String example : List.of("values-gpu-small.yaml", "values-kind-cpu.yaml")) {
            assertTrue(readme.contains("examples/" + example), example);
            Chart.tuneloop().example(example);
        }
    }

    private static List<String> section(String heading) throws IOException {
        List<String> lines = Files.readAllLines(README);
        int start = lines.indexOf(heading);
        assertTrue(start >= 0, README + " has no section " + heading);
        List<String> section = new ArrayList<>();
        for (String line : lines.subList(start + 1, lines.size())) {
            if (line.startsWith("## ")) {
                break;
            }
            section.add(line);
        }
        return section;
    }

    private static void flatten(JsonNode node, String prefix, Map<String, JsonNode> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            if (e.getValue().isObject() && !e.getValue().isEmpty() && !WHOLE.contains(e.getKey())) {
                flatten(e.getValue(), key + ".", out);
            } else {
                out.put(key, e.getValue());
            }
        }
    }
}
