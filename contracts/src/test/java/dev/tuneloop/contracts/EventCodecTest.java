package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EventCodecTest {
    private static final ObjectMapper PLAIN = new ObjectMapper();
    private static final String TOPIC = Topics.RUN_EVENTS;

    @ParameterizedTest
    @EnumSource(EventType.class)
    void everyEventSurvivesARoundTrip(EventType type) {
        EventEnvelope<?> event = SampleEvents.of(type);
        EventEnvelope<?> back = EventCodec.fromBytes(type.topic(), EventCodec.toBytes(event));
        assertEquals(event, back);
        assertInstanceOf(type.payloadClass(), back.payload());
        assertEquals(type.topic(), back.topic());
    }

    @Test
    void createdEventsCarryTypeVersionAndAFreshId() {
        RunFailed failed = new RunFailed("evaluate", "CUDA? no: out of memory at example 17");
        EventEnvelope<RunFailed> a = EventEnvelope.create("run-1", SampleEvents.LINEAGE, failed, SampleEvents.AT);
        EventEnvelope<RunFailed> b = EventEnvelope.create("run-1", SampleEvents.LINEAGE, failed, SampleEvents.AT);
        assertEquals("RunFailed", a.header().type());
        assertEquals(EventType.RUN_FAILED.schemaVersion(), a.header().schemaVersion());
        assertTrue(!a.header().eventId().equals(b.header().eventId()), "event ids must differ");
        assertEquals(Topics.RUN_EVENTS, a.topic());
        assertEquals("run-1", a.key());
    }

    @Test
    void adapterPromotionsAreKeyedByServedModelAndInstantsAreIso8601() throws Exception {
        EventEnvelope<?> event = SampleEvents.of(EventType.ADAPTER_PROMOTED);
        assertEquals("qwen-squad", event.key());
        assertEquals(Topics.ADAPTER_PROMOTED, event.topic());
        JsonNode json = PLAIN.readTree(EventCodec.toBytes(event));
        assertEquals("2026-03-01T12:00:00Z", json.at("/header/occurredAt").asText());
        assertEquals("2026-03-01T12:00:05Z", json.at("/payload/promotedAt").asText());
    }

    @Test
    void optionalFieldsAreLeftOutWhenAbsentAndDecodedWhenPresent() throws Exception {
        EventEnvelope<?> event = SampleEvents.of(EventType.TRAINING_REQUESTED);
        assertTrue(PLAIN.readTree(EventCodec.toBytes(event)).at("/payload/initAdapter").isMissingNode());
        TrainingRequested withInit = new TrainingRequested("m", "r", "s3://b/t", "s3://b/e",
                SampleEvents.hyperParameters(), "s3://tuneloop/runs/old/checkpoints/epoch-0003/");
        EventEnvelope<TrainingRequested> again = EventEnvelope.create("run-2", SampleEvents.LINEAGE, withInit,
                SampleEvents.AT);
        EventEnvelope<TrainingRequested> back =
                EventCodec.fromBytes(Topics.TRAINING_REQUESTED, EventCodec.toBytes(again), TrainingRequested.class);
        assertEquals("s3://tuneloop/runs/old/checkpoints/epoch-0003/", back.payload().initAdapter());
    }

    @Test
    void unknownFieldsAreIgnoredEverywhere() throws Exception {
        ObjectNode json = (ObjectNode) PLAIN.readTree(EventCodec.toBytes(SampleEvents.of(EventType.CHECKPOINT_SAVED)));
        json.put("traceparent", "00-abc-def-01");
        ((ObjectNode) json.get("header")).put("producer", "trainer-7d9f-x2");
        ((ObjectNode) json.at("/header/lineage")).put("datasetRows", 7649);
        ((ObjectNode) json.get("payload")).putObject("metrics").put("peakRssMb", 5120);
        ((ObjectNode) json.at("/payload/files/adapter_config.json")).put("contentType", "application/json");
        EventEnvelope<?> back = EventCodec.fromBytes(Topics.CHECKPOINT_SAVED, PLAIN.writeValueAsBytes(json));
        assertEquals(SampleEvents.of(EventType.CHECKPOINT_SAVED), back);
    }

    @Test
    void anUnknownEventTypeDecodesAsUnknownEventAndReEncodesUnchanged() throws Exception {
        ObjectNode json = (ObjectNode) PLAIN.readTree(EventCodec.toBytes(SampleEvents.of(EventType.RUN_FAILED)));
        ((ObjectNode) json.get("header")).put("type", "RunPaused").put("schemaVersion", 3);
        json.set("payload", PLAIN.readTree("{\"pausedAtStep\": 12, \"by\": \"bob\"}"));
        EventEnvelope<?> event = EventCodec.fromBytes(TOPIC, PLAIN.writeValueAsBytes(json));
        UnknownEvent unknown = assertInstanceOf(UnknownEvent.class, event.payload());
        assertEquals(12, unknown.payload().get("pausedAtStep").asInt());
        assertEquals(SampleEvents.RUN_ID, event.key());
        assertEquals(json, PLAIN.readTree(EventCodec.toBytes(event)));
        assertThrows(IllegalStateException.class, event::topic);
    }

    @Test
    void garbageIsMalformedAndTheExceptionCarriesTopicAndPayloadPrefix() {
        byte[] raw = "not json at all \u0001".getBytes(StandardCharsets.UTF_8);
        MalformedEventException e = assertThrows(MalformedEventException.class, () -> EventCodec.fromBytes(TOPIC, raw));
        assertEquals(TOPIC, e.topic());
        assertEquals("not json at all \\u0001", e.rawPrefix());
        assertEquals(raw.length, e.rawLength());
        assertTrue(e.getMessage().contains(TOPIC) && e.getMessage().contains("not JSON"), e.getMessage());
    }

    @Test
    void theRawPrefixIsCappedAt200Bytes() {
        byte[] raw = ("[" + "1,".repeat(500) + "1]").getBytes(StandardCharsets.UTF_8);
        MalformedEventException e = assertThrows(MalformedEventException.class, () -> EventCodec.fromBytes(TOPIC, raw));
        assertEquals(200, e.rawPrefix().length());
        assertEquals(1003, e.rawLength());
        assertTrue(e.reason().contains("expected a JSON object"), e.reason());
    }

    @Test
    void emptyAndNullPayloadsAreMalformed() {
        assertEquals(-1, assertThrows(MalformedEventException.class, () -> EventCodec.fromBytes(TOPIC, null))
                .rawLength());
        assertEquals("empty payload", assertThrows(MalformedEventException.class,
                () -> EventCodec.fromBytes(TOPIC, new byte[0])).reason());
    }

    @Test
    void structuralProblemsNameWhatIsWrong() {
        assertReason(json -> json.remove("header"), "missing \"header\"");
        assertReason(json -> json.remove("payload"), "missing \"payload\"");
        assertReason(json -> ((ObjectNode) json.get("header")).put("eventId", "not-a-uuid"), "header.eventId");
        assertReason(json -> ((ObjectNode) json.get("header")).put("occurredAt", "yesterday"), "header.occurredAt");
        assertReason(json -> ((ObjectNode) json.get("header")).remove("runId"), "EventHeader.runId");
        assertReason(json -> ((ObjectNode) json.get("header")).put("runId", "../etc"), "EventHeader.runId");
        assertReason(json -> ((ObjectNode) json.at("/header/lineage")).put("datasetSha256", "abc"),
                "Lineage.datasetSha256");
        assertReason(json -> ((ObjectNode) json.get("payload")).put("f1", 150.0), "CheckpointEvaluated.f1");
        assertReason(json -> ((ObjectNode) json.get("payload")).put("n", "many"), "payload.n");
        assertReason(json -> ((ObjectNode) json.get("payload")).remove("n"), "payload.n: Cannot map `null` into type `int` (missing or null)");
        assertReason(json -> ((ObjectNode) json.get("payload")).putNull("exactMatch"), "payload.exactMatch");
    }

    @Test
    void aPayloadOfTheWrongShapeForItsHeaderTypeIsMalformed() throws Exception {
        ObjectNode json = (ObjectNode) PLAIN.readTree(EventCodec.toBytes(SampleEvents.of(EventType.RUN_FAILED)));
        ((ObjectNode) json.get("header")).put("type", "TrainingStarted");
        MalformedEventException e = assertThrows(MalformedEventException.class,
                () -> EventCodec.fromBytes(TOPIC, PLAIN.writeValueAsBytes(json)));
        assertTrue(e.reason().startsWith("bad TrainingStarted at payload."), e.reason());
    }

    @Test
    void typedDecodingRejectsAnotherType() {
        byte[] raw = EventCodec.toBytes(SampleEvents.of(EventType.RUN_FAILED));
        MalformedEventException e = assertThrows(MalformedEventException.class,
                () -> EventCodec.fromBytes(TOPIC, raw, RunCompleted.class));
        assertTrue(e.reason().contains("expected a RunCompleted event, got RunFailed"), e.reason());
        assertEquals("train", EventCodec.fromBytes(TOPIC, raw, RunFailed.class).payload().stage());
    }

    @Test
    void trailingGarbageAfterTheEventIsMalformed() {
        byte[] event = EventCodec.toBytes(SampleEvents.of(EventType.RUN_FAILED));
        byte[] raw = new byte[event.length + 2];
        System.arraycopy(event, 0, raw, 0, event.length);
        raw[event.length] = '}';
        raw[event.length + 1] = '{';
        assertThrows(MalformedEventException.class, () -> EventCodec.fromBytes(TOPIC, raw));
    }

    @Test
    void encodingIsStableForTheSameEvent() {
        EventEnvelope<?> event = SampleEvents.of(EventType.CHECKPOINT_SAVED);
        assertArrayEquals(EventCodec.toBytes(event), EventCodec.toBytes(event));
    }

    @Test
    void anEnvelopeRefusesAHeaderOfAnotherType() {
        EventHeader header = EventHeader.create(EventType.RUN_COMPLETED, "run-1", SampleEvents.LINEAGE, Instant.EPOCH);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EventEnvelope<>(header, new RunFailed("train", "boom")));
        assertTrue(e.getMessage().contains("RunCompleted does not match payload type RunFailed"), e.getMessage());
    }

    private static void assertReason(Consumer<ObjectNode> corrupt, String expected) {
        ObjectNode json;
        try {
            json = (ObjectNode) PLAIN.readTree(EventCodec.toBytes(SampleEvents.of(EventType.CHECKPOINT_EVALUATED)));
            corrupt.accept(json);
            byte[] raw = PLAIN.writeValueAsBytes(json);
            MalformedEventException e = assertThrows(MalformedEventException.class,
                    () -> EventCodec.fromBytes(Topics.CHECKPOINT_EVALUATED, raw));
            assertTrue(e.reason().contains(expected), () -> "reason '" + e.reason() + "' lacks '" + expected + "'");
            assertEquals(Topics.CHECKPOINT_EVALUATED, e.topic());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
