package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import org.junit.jupiter.api.Test;

class DataFetcherTest {
    @Test
    void anHttpsDownloadIsNamedByItsLastPathSegment() {
        assertEquals("dev-v1.1.json", DataFetcher.fileName(URI.create("https://data.example.org/squad/dev-v1.1.json")));
        assertEquals("train.jsonl", DataFetcher.fileName(URI.create("https://data.example.org/train.jsonl?sig=abc#x")));
        assertEquals("data", DataFetcher.fileName(URI.create("https://data.example.org/squad/")));
        assertEquals("data", DataFetcher.fileName(URI.create("https://data.example.org")));
    }
}
