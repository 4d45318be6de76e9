package dev.tuneloop.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local broker is a real KRaft Kafka in a child JVM whose topics and events survive a restart on the same folder. */
class LocalKafkaTest {
    @TempDir
    Path dir;

    @Test
    void topicsAndEventsSurviveARestartAndTheBrokerStopsOnSigterm() throws Exception {
        Path agent = ParentWatch.agentJar(dir.resolve("run"));
        String cp = System.getProperty("java.class.path");
        String firstAddress;
        try (LocalKafka kafka = LocalKafka.start(dir.resolve("kafka"), 0, agent, cp, dir.resolve("kafka.log"))) {
            firstAddress = kafka.bootstrapServers();
            List<String> created = LocalKafka.ensureTopics(kafka.bootstrapServers(), Topics.all());
            assertEquals(Topics.all().size(), created.size());
            assertEquals(List.of(), LocalKafka.ensureTopics(kafka.bootstrapServers(), Topics.all()),
                    "existing topics are left alone");
            try (KafkaProducer<String, String> producer = producer(kafka.bootstrapServers())) {
                producer.send(new ProducerRecord<>(Topics.RUN_EVENTS, "run-1", "first")).get(30, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>(Topics.RUN_EVENTS, "run-1", "second")).get(30, TimeUnit.SECONDS);
            }
            assertEquals(List.of("first", "second"), readAll(kafka.bootstrapServers(), 2));
            kafka.close();
            assertFalse(kafka.process().isAlive());
            int exit = kafka.process().exitCode();
            // its shutdown hook ends it (0, or 128 + 15 when the signal wins the race); 137 would mean SIGKILL
            assertTrue(exit == 0 || exit == 143, "SIGTERM stops the broker in time, exit code " + exit);
        }

        try (LocalKafka kafka = LocalKafka.start(dir.resolve("kafka"), 0, agent, cp, dir.resolve("kafka.log"))) {
            try (Admin admin = kafka.admin()) {
                Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                for (var spec : Topics.all()) {
                    assertTrue(names.contains(spec.name()), spec.name() + " survived the restart; topics " + names);
                }
                assertEquals(3, admin.describeTopics(List.of(Topics.RUN_EVENTS)).allTopicNames()
                        .get(30, TimeUnit.SECONDS).get(Topics.RUN_EVENTS).partitions().size());
            }
            assertEquals(List.of("first", "second"), readAll(kafka.bootstrapServers(), 2),
                    "events written before the restart (broker was at " + firstAddress + ")");
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer());
    }

    private static List<String> readAll(String bootstrap, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(Topics.RUN_EVENTS));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(new String(r.value().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }
}
