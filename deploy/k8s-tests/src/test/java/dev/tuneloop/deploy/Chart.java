package dev.tuneloop.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The tuneloop Helm chart, rendered by Helm itself (helm-java embeds Helm 3 as a native library).
 *
 * <p>helm-java 0.0.21's {@code template()} returns the release manifest only: hooks (the topic Job) and test pods
 * are left out, unlike the helm CLI. {@link #withHooksRendered()} is a copy of the chart in which the annotation key
 * {@code helm.sh/hook} is renamed to {@value #HOOK_ANNOTATION}, so Helm renders hooks as ordinary manifests and
 * they get validated too; the renamed annotation keeps the hook type for assertions.
 */
final class Chart {
    static final String HOOK_ANNOTATION = "tuneloop.test/hook";
    static final String RELEASE = "tl";
    static final String NAMESPACE = "tuneloop";
    /** Capabilities Helm renders against: the oldest Kubernetes the chart supports (Chart.yaml kubeVersion). */
    static final String KUBE_VERSION = "v1.27.0";

    /** Duplicate keys fail the parse, as they fail `kubectl apply` (strict field validation). */
    private static final ObjectMapper YAML = YAMLMapper.builder(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path dir;

    private Chart(Path dir) {
        this.dir = dir;
    }

    static Chart tuneloop() {
        Path dir = Path.of(System.getProperty("tuneloop.chart.dir", "../k8s/tuneloop")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve("Chart.yaml"))) {
            throw new IllegalStateException("no Chart.yaml in " + dir + " (system property tuneloop.chart.dir)");
        }
        return new Chart(dir);
    }

    private static Chart hooksRendered;

    /** A copy of the chart under target/ whose hooks render as ordinary manifests (see the class comment). */
    static synchronized Chart tuneloopWithHooksRendered() {
        if (hooksRendered == null) {
            hooksRendered = tuneloop().withHooksRendered();
        }
        return hooksRendered;
    }

    private Chart withHooksRendered() {
        Path copy = Path.of(System.getProperty("tuneloop.test.work", "target")).toAbsolutePath()
                .resolve("chart-with-hooks").resolve(dir.getFileName());
        try {
            if (Files.exists(copy)) {
                try (Stream<Path> old = Files.walk(copy)) {
                    for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            int renamed = 0;
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path src : files.toList()) {
                    Path dst = copy.resolve(dir.relativize(src).toString());
                    if (Files.isDirectory(src)) {
                        Files.createDirectories(dst);
                        continue;
                    }
                    String text = Files.readString(src);
                    String changed = text.replace("helm.sh/hook:", HOOK_ANNOTATION + ":");
                    renamed += changed.equals(text) ? 0 : 1;
                    Files.writeString(dst, changed);
                }
            }
            if (renamed == 0) {
                throw new IllegalStateException("no helm.sh/hook annotation found in " + dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the chart " + dir + " to " + copy, e);
        }
        return new Chart(copy);
    }

    Path dir() {
        return dir;
    }

    /** An example values file shipped beside the chart, e.g. {@code values-kind-cpu.yaml}. */
    Path example(String fileName) {
        Path file = dir.resolve("examples").resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("missing example values file " + file);
        }
        return file;
    }

    LintResult lintStrict() {
        return new Helm(dir).lint().strict().call();
    }

    Rendered render(Path... valuesFiles) {
        return render(Map.of(), valuesFiles);
    }

    /** helm template with the values files (in order) and then the --set overrides. Throws on a template error. */
    Rendered render(Map<String, String> set, Path... valuesFiles) {
        TemplateCommand template = new Helm(dir).template()
                .withName(RELEASE)
                .withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        for (Path file : valuesFiles) {
            template = template.withValuesFile(file);
        }
        for (Map.Entry<String, String> e : new LinkedHashMap<>(set).entrySet()) {
            template = template.set(e.getKey(), e.getValue());
        }
        return new Rendered(parse(template.call()));
    }

    static List<ObjectNode> parse(String multiDocumentYaml) {
        List<ObjectNode> manifests = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(multiDocumentYaml)) {
            var docs = YAML.readValues(parser, JsonNode.class);
            int index = 0;
            while (docs.hasNextValue()) {
                JsonNode doc = docs.nextValue();
                index++;
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                if (!doc.isObject()) {
                    throw new IllegalStateException("rendered document " + index + " is a " + doc.getNodeType()
                            + ", not a Kubernetes object: " + doc);
                }
                manifests.add((ObjectNode) doc);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse Helm's output as YAML: " + e.getMessage()
                    + "\n--- output ---\n" + multiDocumentYaml, e);
        }
        return manifests;
    }
}
