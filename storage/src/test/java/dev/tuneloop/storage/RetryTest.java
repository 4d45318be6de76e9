package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Transient failures are retried with backoff, permanent ones are not; fake servers make the failures exact. */
class RetryTest {
    private static final RetryPolicy FAST = new RetryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(40));
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void connectionRefusedIsRetriedThenReported() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        StorageSettings settings = new StorageSettings("http://127.0.0.1:" + port, "a", "s", null, "tuneloop");
        try (ObjectStore store = new ObjectStore(settings, FAST)) {
            long start = System.nanoTime();
            StorageException e = assertThrows(StorageException.class, store::ensureBucket);
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(3, e.attempts());
            assertEquals(0, e.httpStatus());
            assertTrue(e.getMessage().startsWith("ensureBucket s3://tuneloop failed after 3 attempts: cannot connect to"
                    + " http://127.0.0.1:" + port), e.getMessage());
            assertTrue(elapsedMs >= 60, "two backoffs of 20 and 40 ms, took " + elapsedMs + " ms");
        }
    }

    @Test
    void serverErrorsAreRetriedUntilTheServerRecovers() throws IOException {
        AtomicInteger requests = startServer(2);
        try (ObjectStore store = new ObjectStore(settings(), FAST)) {
            store.ensureBucket();
        }
        assertEquals(3, requests.get(), "two 503 answers, then success");
    }

    @Test
    void aServerThatKeepsFailingIsReportedWithItsStatus() throws IOException {
        AtomicInteger requests = startServer(Integer.MAX_VALUE);
        try (ObjectStore store = new ObjectStore(settings(), FAST)) {
            StorageException e = assertThrows(StorageException.class,
                    () -> store.open(store.uri("runs/x/y.json")));
            assertEquals(503, e.httpStatus());
            assertEquals("SlowDown", e.errorCode());
            assertEquals(3, e.attempts());
            assertTrue(e.getMessage().startsWith("open s3://tuneloop/runs/x/y.json failed after 3 attempts: HTTP 503"
                    + " SlowDown: Please reduce your request rate."), e.getMessage());
        }
        assertEquals(3, requests.get());
    }

    @Test
    void aClientErrorIsNotRetried() throws IOException {
        AtomicInteger requests = startServer(0);
        try (ObjectStore store = new ObjectStore(settings(), FAST)) {
            StorageException e = assertThrows(StorageException.class,
                    () -> store.open(store.uri("runs/x/y.json")));
            assertEquals(400, e.httpStatus());
            assertEquals("InvalidRequest", e.errorCode());
            assertEquals(1, e.attempts());
        }
        assertEquals(1, requests.get());
    }

    /** Answers 503 SlowDown to the first {@code failures} requests, then 200 to HEAD and 400 to anything else. */
    private AtomicInteger startServer(int failures) throws IOException {
        AtomicInteger requests = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            int n = requests.incrementAndGet();
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.getRequestBody().readAllBytes();
            if (n <= failures) {
                respond(exchange, 503, head, "SlowDown", "Please reduce your request rate.");
            } else if (head) {
                exchange.getResponseHeaders().add("Content-Length", "0");
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            } else {
                respond(exchange, 400, false, "InvalidRequest", "This fake server only answers HEAD.");
            }
        });
        server.start();
        return requests;
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, boolean head, String code,
            String message) throws IOException {
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>1</RequestId></Error>").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/xml");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
        exchange.close();
    }

    private StorageSettings settings() {
        return new StorageSettings("http://127.0.0.1:" + server.getAddress().getPort(), "a", "s", null, "tuneloop");
    }
}
