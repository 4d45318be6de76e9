package dev.tuneloop.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A MinIO bucket notification as MinIO's Kafka target writes it:
 * {@code {"EventName": "s3:ObjectCreated:Put", "Key": "bucket/key", "Records": [{..., "s3": {"bucket": {"name"},
 * "object": {"key", "size", "eTag", ...}}}]}}. In the records the object key is URL-encoded (Go's
 * {@code url.QueryEscape}: {@code /} as {@code %2F}, space as {@code +}); the top-level {@code Key} is decoded.
 * Kafka messages carry one record each; more are accepted.
 *
 * @param eventName e.g. {@code s3:ObjectCreated:Put}
 * @param key {@code bucket/key}, decoded
 * @param records the objects the notification is about
 */
public record MinioNotification(String eventName, String key, List<ObjectEvent> records) {
    public MinioNotification {
        Check.text("MinioNotification", "eventName", eventName);
        Check.text("MinioNotification", "key", key);
        Check.present("MinioNotification", "records", records);
        if (records.isEmpty()) {
            throw new IllegalArgumentException("MinioNotification has no Records (Key " + key + ")");
        }
        records = List.copyOf(records);
    }

    /**
     * One object event.
     *
     * @param eventName e.g. {@code s3:ObjectCreated:CompleteMultipartUpload}
     * @param eventTime when MinIO saw it; {@code null} if absent
     * @param bucket bucket name
     * @param objectKey the object key, URL-decoded
     * @param eTag the object's ETag without quotes; {@code null} for removals, which carry none
     * @param size object size in bytes (0 for removals)
     */
    public record ObjectEvent(String eventName, Instant eventTime, String bucket, String objectKey, String eTag,
            long size) {
        public ObjectEvent {
            Check.text("ObjectEvent", "eventName", eventName);
            Check.text("ObjectEvent", "bucket", bucket);
            Check.text("ObjectEvent", "objectKey", objectKey);
            Check.atLeast("ObjectEvent", "size", size, 0);
        }

        public boolean objectCreated() {
            return eventName.startsWith("s3:ObjectCreated:");
        }

        /** bucket/key/eTag: the same object version always gives the same identity. */
        public String identity() {
            if (eTag == null) {
                throw new IllegalStateException("object event " + eventName + " for " + bucket + "/" + objectKey
                        + " has no eTag, so no identity (only object-created events carry one)");
            }
            return bucket + "/" + objectKey + "/" + eTag;
        }

        /** {@code "ds-"} + the first 16 hex digits of sha256({@link #identity()}): a redelivery maps to the same run. */
        public String derivedRunId() {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256")
                        .digest(identity().getBytes(StandardCharsets.UTF_8));
                return "ds-" + HexFormat.of().formatHex(digest).substring(0, 16);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 missing from this JVM", e);
            }
        }
    }

    /** The run id for the single object of this notification; see {@link ObjectEvent#derivedRunId()}. */
    public String derivedRunId() {
        if (records.size() != 1) {
            throw new IllegalStateException("notification " + key + " has " + records.size()
                    + " records; derive a run id per record instead");
        }
        return records.get(0).derivedRunId();
    }

    /** Parses MinIO's JSON; anything that does not fit throws {@link MalformedEventException}. */
    public static MinioNotification fromBytes(String topic, byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedEventException(topic, bytes, "empty payload", null);
        }
        JsonNode root;
        try {
            root = EventCodec.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new MalformedEventException(topic, bytes, "not JSON: " + e.getMessage(), e);
        }
        try {
            if (root == null || !root.isObject()) {
                throw new IllegalArgumentException("expected a JSON object");
            }
            String eventName = text(root, "EventName");
            String key = text(root, "Key");
            JsonNode recordNodes = root.get("Records");
            if (recordNodes == null || !recordNodes.isArray()) {
                throw new IllegalArgumentException("\"Records\" must be an array");
            }
            List<ObjectEvent> records = new ArrayList<>();
            for (int i = 0; i < recordNodes.size(); i++) {
                records.add(record(recordNodes.get(i), "Records[" + i + "]"));
            }
            boolean keyMatches = records.stream().anyMatch(r -> key.equals(r.bucket() + "/" + r.objectKey()));
            if (!records.isEmpty() && !keyMatches) {
                throw new IllegalArgumentException("Key " + key + " matches no record's bucket/decoded key "
                        + records.stream().map(r -> r.bucket() + "/" + r.objectKey()).toList());
            }
            return new MinioNotification(eventName, key, records);
        } catch (IllegalArgumentException e) {
            throw new MalformedEventException(topic, bytes, "bad MinIO notification: " + e.getMessage(), e);
        }
    }

    private static ObjectEvent record(JsonNode node, String path) {
        JsonNode s3 = node.path("s3");
        JsonNode object = s3.path("object");
        String encodedKey = text(object, path + ".s3.object.key", "key");
        String objectKey;
        try {
            objectKey = URLDecoder.decode(encodedKey, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ".s3.object.key " + Check.quote(encodedKey)
                    + " is not URL-encoded correctly: " + e.getMessage());
        }
        JsonNode size = object.get("size");
        if (size != null && !size.canConvertToLong()) {
            throw new IllegalArgumentException(path + ".s3.object.size must be an integer, got " + size);
        }
        String eTag = object.hasNonNull("eTag") ? stripQuotes(object.get("eTag").asText()) : null;
        return new ObjectEvent(text(node, path + ".eventName", "eventName"), time(node, path),
                text(s3.path("bucket"), path + ".s3.bucket.name", "name"), objectKey,
                eTag == null || eTag.isEmpty() ? null : eTag, size == null ? 0 : size.asLong());
    }

    private static Instant time(JsonNode node, String path) {
        if (!node.hasNonNull("eventTime")) {
            return null;
        }
        String value = node.get("eventTime").asText();
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(path + ".eventTime is not ISO-8601: " + Check.quote(value));
        }
    }

    private static String text(JsonNode node, String field) {
        return text(node, field, field);
    }

    private static String text(JsonNode node, String path, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw new IllegalArgumentException("\"" + path + "\" must be a non-empty string, got "
                    + (value == null ? "nothing" : value.toString()));
        }
        return value.asText();
    }

    private static String stripQuotes(String eTag) {
        return eTag.length() >= 2 && eTag.startsWith("\"") && eTag.endsWith("\"")
                ? eTag.substring(1, eTag.length() - 1)
                : eTag;
    }
}
