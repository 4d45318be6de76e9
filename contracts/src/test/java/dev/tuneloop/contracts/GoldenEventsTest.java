package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The committed golden JSON of each event type pins the wire format: renaming, adding or retyping a field fails here.
 * Update the golden file only on purpose, and bump the schema version (or the topic for a breaking change).
 */
class GoldenEventsTest {
    private static final ObjectMapper PLAIN = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(EventType.class)
    void goldenFileDecodesToTheSampleEvent(EventType type) throws IOException {
        EventEnvelope<?> decoded = EventCodec.fromBytes(type.topic(), golden(type));
        assertEquals(SampleEvents.of(type), decoded);
    }

    @ParameterizedTest
    @EnumSource(EventType.class)
    void sampleEventEncodesToTheGoldenJson(EventType type) throws IOException {
        JsonNode expected = PLAIN.readTree(golden(type));
        JsonNode actual = PLAIN.readTree(EventCodec.toBytes(SampleEvents.of(type)));
        assertEquals(expected, actual, () -> type + " JSON changed:\n golden: " + expected + "\n actual: " + actual);
    }

    private static byte[] golden(EventType type) throws IOException {
        String resource = "/golden/" + type.typeName() + ".json";
        try (InputStream in = GoldenEventsTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "missing golden file src/test/resources" + resource);
            return in.readAllBytes();
        }
    }
}
