package dev.tuneloop.contracts;

import java.nio.charset.StandardCharsets;

/**
 * A message that cannot be decoded into an event. It carries the topic and the start of the raw bytes so that a
 * consumer can dead-letter the message with a useful reason instead of crashing or skipping it.
 */
public final class MalformedEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final int PREFIX_BYTES = 200;

    private final String topic;
    private final String reason;
    private final String rawPrefix;
    private final int rawLength;

    public MalformedEventException(String topic, byte[] raw, String reason, Throwable cause) {
        super(message(topic, raw, reason), cause);
        this.topic = topic;
        this.reason = reason;
        this.rawPrefix = prefix(raw);
        this.rawLength = raw == null ? -1 : raw.length;
    }

    public String topic() {
        return topic;
    }

    /** What is wrong, without the topic and payload. */
    public String reason() {
        return reason;
    }

    /** The first {@value #PREFIX_BYTES} bytes as text, control characters escaped; empty for a null payload. */
    public String rawPrefix() {
        return rawPrefix;
    }

    /** The payload's length in bytes, -1 for a null payload (a Kafka tombstone). */
    public int rawLength() {
        return rawLength;
    }

    private static String message(String topic, byte[] raw, String reason) {
        String payload = raw == null ? "null payload" : raw.length + " bytes starting with '" + prefix(raw) + "'";
        return "malformed event on topic " + topic + ": " + reason + " (" + payload + ")";
    }

    private static String prefix(byte[] raw) {
        if (raw == null) {
            return "";
        }
        String text = new String(raw, 0, Math.min(raw.length, PREFIX_BYTES), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
