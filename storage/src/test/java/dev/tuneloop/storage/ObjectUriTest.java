package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ObjectUriTest {
    @Test
    void parsesBucketAndKeyLiterally() {
        ObjectUri uri = ObjectUri.parse("s3://tuneloop/runs/r1/checkpoints/epoch-0001/adapter_model.safetensors");
        assertEquals("tuneloop", uri.bucket());
        assertEquals("runs/r1/checkpoints/epoch-0001/adapter_model.safetensors", uri.key());
        assertEquals("adapter_model.safetensors", uri.fileName());
        assertFalse(uri.isFolder());
        assertEquals("s3://tuneloop/runs/r1/checkpoints/epoch-0001/adapter_model.safetensors", uri.toString());
        assertEquals("train proxy%2B.jsonl", ObjectUri.parse("s3://b-1.x/data/train proxy%2B.jsonl").fileName());
    }

    @Test
    void foldersResolveChildren() {
        ObjectUri folder = ObjectUri.parse("s3://tuneloop/runs/r1/");
        assertTrue(folder.isFolder());
        assertEquals("r1", folder.fileName());
        assertEquals(ObjectUri.parse("s3://tuneloop/runs/r1/checkpoints/step-000400/adapter_config.json"),
                folder.resolve("checkpoints/step-000400/adapter_config.json"));
        assertThrows(IllegalArgumentException.class, () -> folder.resolve("../r2/x"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ObjectUri.parse("s3://tuneloop/runs/r1/a.json").resolve("b"));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "http://tuneloop/key                | must start with s3://",
        "s3://tuneloop                      | no key after the bucket",
        "s3://tuneloop/                     | the key is empty",
        "s3:///key                          | the bucket name is empty",
        "s3://tuneloop//etc/passwd          | the key must not start with '/'",
        "s3://tuneloop/runs/../secrets/x    | '..' segment (path traversal)",
        "s3://tuneloop/runs/..              | '..' segment (path traversal)",
        "s3://tuneloop/../x                 | '..' segment (path traversal)",
        "s3://tuneloop/runs/./x             | '.' segment",
        "s3://tuneloop/runs//x              | empty segment",
        "s3://tuneloop/runs\\x              | backslash",
        "s3://Tuneloop/x                    | may only hold lowercase letters",
        "s3://tu/x                          | must be 3-63 characters long, is 2",
        "s3://-tuneloop/x                   | must start and end with a letter or digit",
        "s3://tune_loop/x                   | may only hold lowercase letters",
        "s3://tune..loop/x                  | two adjacent periods",
        "s3://192.168.1.20/x                | IP address",
        "s3://xn--tuneloop/x                | must not start with 'xn--'",
        "s3://tuneloop-s3alias/x            | must not end with '-s3alias'",
    })
    void rejectsBadUrisNamingUriAndRule(String uri, String rule) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ObjectUri.parse(uri));
        assertTrue(e.getMessage().contains("'" + uri + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(rule), () -> "'" + e.getMessage() + "' lacks '" + rule + "'");
    }

    @Test
    void rejectsControlCharactersAndShowsThemEscaped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ObjectUri.parse("s3://tuneloop/runs/a\nb"));
        assertTrue(e.getMessage().contains("'s3://tuneloop/runs/a\\u000ab'"), e.getMessage());
        assertTrue(e.getMessage().contains("control character U+000A at index 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ObjectUri.parse("s3://tuneloop/a\u0000"));
        assertThrows(IllegalArgumentException.class, () -> ObjectUri.parse("s3://tuneloop/a\u0085"));
    }

    @Test
    void rejectsOverlongKeysAndBuckets() {
        assertThrows(IllegalArgumentException.class, () -> new ObjectUri("tuneloop", "k".repeat(1025)));
        assertEquals(1024, new ObjectUri("tuneloop", "k".repeat(1024)).key().length());
        assertThrows(IllegalArgumentException.class, () -> new ObjectUri("b".repeat(64), "k"));
        assertEquals(63, new ObjectUri("b".repeat(63), "k").bucket().length());
    }
}
