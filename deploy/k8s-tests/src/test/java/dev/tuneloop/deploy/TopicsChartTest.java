package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.TopicSpec;
import dev.tuneloop.contracts.Topics;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The topics the chart creates are exactly contracts' {@link Topics#all()}: names, partitions and configs. */
class TopicsChartTest {
    private static final Chart CHART = Chart.tuneloopWithHooksRendered();

    @Test
    void hookJobCreatesExactlyTheContractTopics() {
        Rendered rendered = CHART.render();
        ObjectNode topics = rendered.one("ConfigMap", "tl-tuneloop-topics");

        List<TopicSpec> fromChart = parseTopicsFile(topics.at("/data/topics.txt").asText());

        assertEquals(sorted(Topics.all()), sorted(fromChart));
    }

    @Test
    void hookRunsBeforeInstallAndUpgradeAfterItsConfigMap() {
        Rendered rendered = CHART.render();
        ObjectNode configMap = rendered.one("ConfigMap", "tl-tuneloop-topics");
        ObjectNode job = rendered.one("Job", "tl-tuneloop-topics");
        assertEquals("pre-install,pre-upgrade", hook(job));
        assertEquals("pre-install,pre-upgrade", hook(configMap));
        int configMapWeight = Integer.parseInt(configMap.at("/metadata/annotations/helm.sh~1hook-weight").asText());
        int jobWeight = Integer.parseInt(job.at("/metadata/annotations/helm.sh~1hook-weight").asText());
        assertTrue(configMapWeight < jobWeight, "the ConfigMap must exist before the Job that mounts it");
        assertEquals("before-hook-creation",
                configMap.at("/metadata/annotations/helm.sh~1hook-delete-policy").asText(),
                "deleting the ConfigMap on hook-succeeded would remove it before the Job runs");
        JsonNode container = job.at("/spec/template/spec/containers/0");
        assertEquals("[\"/bin/sh\",\"/etc/tuneloop/topics/create-topics.sh\"]", container.path("command").toString());
        String script = configMap.at("/data/create-topics.sh").asText();
        assertTrue(script.contains("--create --if-not-exists"), script);
        assertTrue(script.contains("--alter") && script.contains("--add-config"), "configs are reconciled: " + script);
        assertEquals("3", env(container, "REPLICATION_FACTOR"));
        assertEquals("kafka:9092", env(container, "KAFKA_BOOTSTRAP_SERVERS"));
        assertEquals("1", env(CHART.render(CHART.example("values-kind-cpu.yaml")).one("Job", "tl-tuneloop-topics")
                .at("/spec/template/spec/containers/0"), "REPLICATION_FACTOR"));
    }

    @Test
    void strimziModeRendersOneKafkaTopicPerContractTopic() {
        Rendered rendered = CHART.render(CHART.example("values-gpu-small.yaml"));
        assertEquals(List.of(), rendered.ofKind("Job"), "no hook Job when Strimzi creates the topics");

        List<TopicSpec> fromChart = new ArrayList<>();
        for (ObjectNode topic : rendered.ofKind("KafkaTopic")) {
            assertEquals("tuneloop-kafka", topic.at("/metadata/labels/strimzi.io~1cluster").asText());
            assertEquals(3, topic.at("/spec/replicas").asInt());
            Map<String, String> config = new TreeMap<>();
            topic.at("/spec/config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            fromChart.add(new TopicSpec(topic.at("/spec/topicName").asText(), topic.at("/spec/partitions").asInt(),
                    config));
        }

        assertEquals(sorted(Topics.all()), sorted(fromChart));
    }

    @Test
    void noTopicResourcesInModeNone() {
        Rendered rendered = CHART.render(Map.of("kafka.topics.mode", "none"));
        assertEquals(List.of(), rendered.ofKind("KafkaTopic"));
        assertEquals(List.of(), rendered.ofKind("Job"));
    }

    @Test
    void kedaWatchesContractTopics() {
        Rendered rendered = CHART.render(Map.of("trainer.keda.enabled", "true", "eval.keda.enabled", "true"));
        for (ObjectNode so : rendered.ofKind("ScaledObject")) {
            String topic = so.at("/spec/triggers/0/metadata/topic").asText();
            Topics.spec(topic); // throws for a topic the contracts do not know
        }
    }

    /** Lines of "name partitions k=v,k=v", as the Job's script reads them. */
    static List<TopicSpec> parseTopicsFile(String text) {
        List<TopicSpec> specs = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.trim().split(" ");
            assertEquals(3, fields.length, "topics.txt line must be 'name partitions configs': <" + line + ">");
            Map<String, String> config = new TreeMap<>();
            for (String pair : fields[2].split(",")) {
                String[] kv = pair.split("=", 2);
                assertEquals(2, kv.length, "config must be key=value in <" + line + ">");
                config.put(kv[0], kv[1]);
            }
            specs.add(new TopicSpec(fields[0], Integer.parseInt(fields[1]), config));
        }
        return specs;
    }

    private static List<TopicSpec> sorted(List<TopicSpec> specs) {
        return specs.stream().sorted(Comparator.comparing(TopicSpec::name)).toList();
    }

    private static String hook(ObjectNode manifest) {
        return manifest.at("/metadata/annotations/" + Chart.HOOK_ANNOTATION.replace("/", "~1")).asText();
    }

    private static String env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (name.equals(e.path("name").asText())) {
                return e.path("value").asText();
            }
        }
        throw new AssertionError("no env " + name + " in " + container.path("env"));
    }
}
