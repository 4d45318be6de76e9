package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneloop.contracts.testing.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KafkaBrokerTest {
    private static KafkaBroker kafka;

    @BeforeAll
    static void startBroker() {
        kafka = KafkaBroker.start();
        kafka.createTopics(Topics.all());
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.stop();
        }
    }

    @Test
    void everyEventTypeRoundTripsThroughItsTopicUnderItsKey() throws Exception {
        List<EventEnvelope<?>> sent = new ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (EventType type : EventType.values()) {
                EventEnvelope<?> event = SampleEvents.of(type);
                producer.send(new ProducerRecord<>(event.topic(), event.key(), EventCodec.toBytes(event)))
                        .get(30, TimeUnit.SECONDS);
                sent.add(event);
            }
        }
        Set<String> topics = sent.stream().map(EventEnvelope::topic).collect(Collectors.toSet());
        List<ConsumerRecord<String, byte[]>> received = readAll(topics, sent.size());

        assertEquals(sent.size(), received.size());
        for (ConsumerRecord<String, byte[]> record : received) {
            EventEnvelope<?> event = EventCodec.fromBytes(record.topic(), record.value());
            EventEnvelope<?> original = sent.stream()
                    .filter(e -> e.header().eventId().equals(event.header().eventId()))
                    .findFirst().orElseThrow();
            assertEquals(original, event, "decoded " + event.header().type());
            assertEquals(original.topic(), record.topic(), event.header().type());
            assertEquals(original.key(), record.key(), event.header().type());
        }
    }

    @Test
    void topicsHaveTheirSpecsPartitionsAndConfigs() throws Exception {
        try (Admin admin = kafka.admin()) {
            List<String> names = Topics.all().stream().map(TopicSpec::name).toList();
            Map<String, TopicDescription> descriptions =
                    admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            List<ConfigResource> resources = names.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
            for (TopicSpec spec : Topics.all()) {
                assertEquals(spec.partitions(), descriptions.get(spec.name()).partitions().size(), spec.name());
                Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
                spec.config().forEach((key, value) ->
                        assertEquals(value, config.get(key).value(), spec.name() + " " + key));
            }
            // A value Kafka would only have from the spec, not as a default:
            Config promoted = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, Topics.ADAPTER_PROMOTED));
            assertEquals("compact", promoted.get("cleanup.policy").value());
            Config requests = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, Topics.TRAINING_REQUESTED));
            assertEquals("-1", requests.get("retention.ms").value());
        }
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(Set<String> topics, int expected) {
        List<ConsumerRecord<String, byte[]>> received = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (received.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(received::add);
            }
        }
        return received;
    }
}
