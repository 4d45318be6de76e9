package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Payloads shaped as MinIO's Kafka target writes them ({@code event.Log{EventName, Key, Records}} with the record key
 * escaped by Go's {@code url.QueryEscape}); expected run ids computed independently with Python's hashlib.
 */
class MinioNotificationTest {
    private static final String TOPIC = Topics.DATASET_NOTIFICATIONS;

    @Test
    void aPutWithAnUrlEncodedKeyDecodesBucketKeyETagAndSize() throws IOException {
        MinioNotification n = MinioNotification.fromBytes(TOPIC, resource("put-url-encoded-key.json"));
        assertEquals("s3:ObjectCreated:Put", n.eventName());
        assertEquals("tuneloop/datasets/squad v1.1/train proxy+extra é.jsonl", n.key());
        assertEquals(1, n.records().size());
        MinioNotification.ObjectEvent object = n.records().get(0);
        assertEquals("tuneloop", object.bucket());
        assertEquals("datasets/squad v1.1/train proxy+extra é.jsonl", object.objectKey());
        assertEquals("a3c2d9f1e8b7a6c5d4e3f2a1b0c9d8e7", object.eTag());
        assertEquals(20_834_112L, object.size());
        assertEquals(Instant.parse("2026-03-01T12:00:00.123Z"), object.eventTime());
        assertTrue(object.objectCreated());
        assertEquals("tuneloop/datasets/squad v1.1/train proxy+extra é.jsonl/a3c2d9f1e8b7a6c5d4e3f2a1b0c9d8e7",
                object.identity());
        assertEquals("ds-fc5e3ad64d0c773d", n.derivedRunId());
    }

    @Test
    void multipleRecordsAreAllParsedAndQuotedETagsAreNormalised() throws IOException {
        MinioNotification n = MinioNotification.fromBytes(TOPIC, resource("multipart-two-records.json"));
        assertEquals(2, n.records().size());
        MinioNotification.ObjectEvent first = n.records().get(0);
        MinioNotification.ObjectEvent second = n.records().get(1);
        assertEquals("datasets/squad/dev-12-articles.jsonl", first.objectKey());
        assertEquals("s3:ObjectCreated:CompleteMultipartUpload", first.eventName());
        assertEquals("5fc7298143efe1276d39a3466d4e255f-2", first.eTag());
        assertEquals("ds-8447edea58a5a997", first.derivedRunId());
        assertEquals("datasets/squad/README.md", second.objectKey());
        assertEquals("0cc175b9c0f1b6a831c399e269772661", second.eTag());
        assertEquals(1204, second.size());
        assertNotEquals(first.derivedRunId(), second.derivedRunId());
        IllegalStateException e = assertThrows(IllegalStateException.class, n::derivedRunId);
        assertTrue(e.getMessage().contains("2 records"), e.getMessage());
    }

    @Test
    void theRunIdDependsOnTheObjectVersion() throws IOException {
        String json = new String(resource("put-url-encoded-key.json"), StandardCharsets.UTF_8);
        MinioNotification original = MinioNotification.fromBytes(TOPIC, json.getBytes(StandardCharsets.UTF_8));
        MinioNotification again = MinioNotification.fromBytes(TOPIC, json.getBytes(StandardCharsets.UTF_8));
        MinioNotification reuploaded = MinioNotification.fromBytes(TOPIC,
                json.replace("a3c2d9f1e8b7a6c5d4e3f2a1b0c9d8e7", "b3c2d9f1e8b7a6c5d4e3f2a1b0c9d8e7")
                        .getBytes(StandardCharsets.UTF_8));
        assertEquals(original.derivedRunId(), again.derivedRunId());
        assertNotEquals(original.derivedRunId(), reuploaded.derivedRunId());
        assertTrue(original.derivedRunId().matches("ds-[0-9a-f]{16}"), original.derivedRunId());
    }

    @Test
    void aRemovalHasNoETagAndThereforeNoRunId() throws IOException {
        MinioNotification n = MinioNotification.fromBytes(TOPIC, resource("remove.json"));
        MinioNotification.ObjectEvent object = n.records().get(0);
        assertEquals("datasets/old train.jsonl", object.objectKey());
        assertFalse(object.objectCreated());
        assertNull(object.eTag());
        assertEquals(0, object.size());
        IllegalStateException e = assertThrows(IllegalStateException.class, object::derivedRunId);
        assertTrue(e.getMessage().contains("tuneloop/datasets/old train.jsonl"), e.getMessage());
    }

    @Test
    void malformedNotificationsNameTheProblem() throws IOException {
        String good = new String(resource("put-url-encoded-key.json"), StandardCharsets.UTF_8);
        assertReason("{\"EventName\": \"s3:ObjectCreated:Put\"", "not JSON");
        assertReason("[]", "expected a JSON object");
        assertReason(good.replace("\"Records\":[", "\"Recs\":["), "\"Records\" must be an array");
        assertReason(good.replace("\"EventName\":\"s3:ObjectCreated:Put\",", ""), "\"EventName\"");
        assertReason(good.replace("%C3%A9.jsonl", "%zz.jsonl"), "Records[0].s3.object.key");
        assertReason(good.replace("\"size\":20834112", "\"size\":\"big\""), "Records[0].s3.object.size");
        assertReason(good.replace("\"name\":\"tuneloop\"", "\"name\":\"\""), "Records[0].s3.bucket.name");
        assertReason(good.replace("2026-03-01T12:00:00.123Z", "yesterday"), "Records[0].eventTime");
        assertReason(good.replace("\"Key\":\"tuneloop/", "\"Key\":\"other/"), "matches no record");
        assertReason(good.replaceAll("\"Records\":\\[.*\\]}$", "\"Records\":[]}"), "no Records");
    }

    private static void assertReason(String json, String expected) {
        byte[] raw = json.getBytes(StandardCharsets.UTF_8);
        MalformedEventException e = assertThrows(MalformedEventException.class,
                () -> MinioNotification.fromBytes(TOPIC, raw));
        assertEquals(TOPIC, e.topic());
        assertTrue(e.reason().contains(expected), () -> "reason '" + e.reason() + "' lacks '" + expected + "'");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MinioNotificationTest.class.getResourceAsStream("/minio/" + name)) {
            assertNotNull(in, "missing test resource minio/" + name);
            return in.readAllBytes();
        }
    }
}
