package dev.tuneloop.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {
    private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"tuneloop\" password=\"s3cr3t-pw\";";

    @Test
    void securityPropertiesReachEveryClientAndTheirValuesAreNeverPrinted() {
        KafkaSettings settings = new KafkaSettings("broker:9093", "trainer-1",
                Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", JAAS));
        Map<String, Object> props = settings.properties(Map.of("enable.auto.commit", "false"), "-loop");
        assertEquals("SASL_SSL", props.get("security.protocol"));
        assertEquals(JAAS, props.get("sasl.jaas.config"));
        assertEquals("trainer-1-loop", props.get("client.id"));
        assertEquals("broker:9093", props.get("bootstrap.servers"));
        String printed = settings.toString();
        assertTrue(printed.contains("sasl.jaas.config"), printed);
        assertFalse(printed.contains("s3cr3t-pw"), printed);
    }
}
