package dev.tuneloop.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.util.Optional;

/**
 * Events to and from JSON bytes. Unknown fields are ignored so that producers can add fields; anything else that does
 * not fit the contract throws {@link MalformedEventException}. Kafka serdes in the services wrap these two calls.
 */
public final class EventCodec {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, null))
            .build();

    private EventCodec() {}

    public static byte[] toBytes(EventEnvelope<?> event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "cannot write " + event.header().type() + " event " + event.header().eventId() + " as JSON", e);
        }
    }

    /**
     * Decodes any event; a type this version does not know comes back with an {@link UnknownEvent} payload.
     *
     * @param topic the topic the bytes came from, for the error message
     */
    public static EventEnvelope<?> fromBytes(String topic, byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedEventException(topic, bytes, "empty payload", null);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new MalformedEventException(topic, bytes, "not JSON: " + originalMessage(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new MalformedEventException(topic, bytes,
                    "expected a JSON object, got " + (root == null ? "nothing" : root.getNodeType()), null);
        }
        EventHeader header = read(topic, bytes, root, "header", EventHeader.class);
        Optional<EventType> type = EventType.byName(header.type());
        EventPayload payload = type.isPresent()
                ? read(topic, bytes, root, "payload", type.get().payloadClass())
                : new UnknownEvent(field(topic, bytes, root, "payload"));
        try {
            return new EventEnvelope<>(header, payload);
        } catch (IllegalArgumentException e) {
            throw new MalformedEventException(topic, bytes, e.getMessage(), e);
        }
    }

    /** Decodes an event that must be of {@code expected}'s type (a topic that carries one type). */
    public static <P extends EventPayload> EventEnvelope<P> fromBytes(String topic, byte[] bytes, Class<P> expected) {
        EventEnvelope<?> event = fromBytes(topic, bytes);
        if (!expected.isInstance(event.payload())) {
            throw new MalformedEventException(topic, bytes, "expected a " + expected.getSimpleName()
                    + " event, got " + event.header().type() + " (event " + event.header().eventId() + ")", null);
        }
        @SuppressWarnings("unchecked")
        EventEnvelope<P> typed = (EventEnvelope<P>) event;
        return typed;
    }

    private static JsonNode field(String topic, byte[] bytes, JsonNode root, String name) {
        JsonNode node = root.get(name);
        if (node == null || node.isNull()) {
            throw new MalformedEventException(topic, bytes, "missing \"" + name + "\"", null);
        }
        return node;
    }

    private static <T> T read(String topic, byte[] bytes, JsonNode root, String name, Class<T> type) {
        JsonNode node = field(topic, bytes, root, name);
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonMappingException e) {
            String path = e.getPath().isEmpty() ? name : name + "." + JsonPaths.of(e);
            Throwable cause = e.getCause();
            String detail = cause instanceof IllegalArgumentException ? cause.getMessage() : originalMessage(e);
            throw new MalformedEventException(topic, bytes,
                    "bad " + type.getSimpleName() + " at " + path + ": " + detail, e);
        } catch (JsonProcessingException e) {
            throw new MalformedEventException(topic, bytes,
                    "bad " + type.getSimpleName() + " at " + name + ": " + originalMessage(e), e);
        }
    }


    private static String originalMessage(IOException e) {
        String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        // Jackson suggests relaxing the mapper ("(set DeserializationConfig...)"): not advice for a message's reader.
        int hint = message == null ? -1 : message.indexOf(" (set DeserializationConfig");
        return hint < 0 ? message : message.substring(0, hint) + " (missing or null)";
    }
}
