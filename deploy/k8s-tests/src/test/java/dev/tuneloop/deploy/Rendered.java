package dev.tuneloop.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The manifests of one helm template run, with look-ups by kind and name. */
record Rendered(List<ObjectNode> manifests) {

    List<ObjectNode> ofKind(String kind) {
        return manifests.stream().filter(m -> kind.equals(m.path("kind").asText())).toList();
    }

    ObjectNode one(String kind, String name) {
        List<ObjectNode> found = manifests.stream()
                .filter(m -> kind.equals(m.path("kind").asText()))
                .filter(m -> name.equals(m.path("metadata").path("name").asText()))
                .toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one " + kind + " named " + name + ", found " + found.size()
                    + "; rendered: " + names());
        }
        return found.get(0);
    }

    /** The pod spec of every workload (Deployment, Job, helm-test Pod), labelled "Kind/name". */
    List<PodSpec> podSpecs() {
        List<PodSpec> specs = new ArrayList<>();
        for (ObjectNode m : manifests) {
            String kind = m.path("kind").asText();
            String label = kind + "/" + m.path("metadata").path("name").asText();
            JsonNode spec = switch (kind) {
                case "Deployment", "Job", "StatefulSet", "DaemonSet" -> m.path("spec").path("template").path("spec");
                case "Pod" -> m.path("spec");
                default -> null;
            };
            if (spec != null) {
                specs.add(new PodSpec(label, kind, spec));
            }
        }
        return specs;
    }

    List<String> names() {
        return manifests.stream()
                .map(m -> m.path("kind").asText() + "/" + m.path("metadata").path("name").asText())
                .toList();
    }

    record PodSpec(String owner, String ownerKind, JsonNode spec) {
        List<JsonNode> containers() {
            List<JsonNode> all = new ArrayList<>();
            spec.path("initContainers").forEach(all::add);
            spec.path("containers").forEach(all::add);
            return all;
        }
    }
}
