package dev.tuneloop.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from a real HTTPS server (self-signed certificate made by keytool) through the allow-list. */
class HttpsFetcherTest {
    private static final byte[] DATA = "{\"question\": \"q\", \"answers\": [\"a\"]}\n".getBytes(StandardCharsets.UTF_8);
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final AtomicInteger REQUESTS = new AtomicInteger();
    private static HttpsServer server;
    private static HttpClient client;

    @BeforeAll
    static void start(@TempDir Path keys) throws Exception {
        Path store = keys.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), "keytool failed: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);

        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        server.createContext("/", exchange -> {
            REQUESTS.incrementAndGet();
            switch (exchange.getRequestURI().getPath()) {
                case "/squad/train.jsonl" -> {
                    exchange.sendResponseHeaders(200, DATA.length);
                    exchange.getResponseBody().write(DATA);
                }
                case "/moved" -> {
                    exchange.getResponseHeaders().add("Location", "https://elsewhere.example/train.jsonl");
                    exchange.sendResponseHeaders(302, -1);
                }
                default -> exchange.sendResponseHeaders(404, -1);
            }
            exchange.close();
        });
        server.start();
        client = HttpClient.newBuilder().sslContext(clientTls).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static HttpsFetcher fetcher(String... hosts) {
        return new HttpsFetcher(new StoragePolicy("tuneloop", List.of("datasets/"), List.of(hosts)), client,
                Duration.ofSeconds(10));
    }

    private static String url(String host, String path) {
        return "https://" + host + ":" + server.getAddress().getPort() + path;
    }

    @Test
    void anAllowListedHostIsDownloadedAndItsSha256Checked(@TempDir Path dir) throws IOException {
        String host = "localhost:" + server.getAddress().getPort();
        Path target = dir.resolve("data/train.jsonl");
        HttpsFetcher.Fetched got = fetcher(host).get(url("localhost", "/squad/train.jsonl"), target, Sha256.of(DATA));
        assertArrayEquals(DATA, Files.readAllBytes(target));
        assertEquals(Sha256.of(DATA), got.sha256());
        assertEquals(DATA.length, got.size());

        Path other = dir.resolve("data/other.jsonl");
        String wrong = Sha256.of("something else".getBytes(StandardCharsets.UTF_8));
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> fetcher(host).get(url("localhost", "/squad/train.jsonl"), other, wrong));
        assertEquals(Sha256.of(DATA), e.actualSha256());
        assertFalse(Files.exists(other), "a file that fails its sha256 is not left behind");
        try (var files = Files.list(dir.resolve("data"))) {
            assertEquals(List.of(target), files.toList(), "no partial files remain");
        }
    }

    @Test
    void aHostOffTheListIsNeverContacted(@TempDir Path dir) {
        int before = REQUESTS.get();
        PolicyViolationException empty = assertThrows(PolicyViolationException.class,
                () -> fetcher().get(url("localhost", "/squad/train.jsonl"), dir.resolve("x"), null));
        assertTrue(empty.rule().contains("the allow-list tuneloop.storage.allowed-https-hosts is empty"),
                empty.rule());
        assertThrows(PolicyViolationException.class,
                () -> fetcher("localhost").get(url("localhost", "/squad/train.jsonl"), dir.resolve("x"), null),
                "the port is part of the entry");
        assertEquals(before, REQUESTS.get());
    }

    @Test
    void redirectsAndErrorsAreNotFollowed(@TempDir Path dir) {
        String host = "localhost:" + server.getAddress().getPort();
        IOException moved = assertThrows(IOException.class,
                () -> fetcher(host).get(url("localhost", "/moved"), dir.resolve("x"), null));
        assertEquals("GET " + url("localhost", "/moved") + " answered HTTP 302 (redirects are not followed),"
                + " expected 200", moved.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> fetcher(host).get(url("localhost", "/nothing"), dir.resolve("x"), null));
        assertTrue(missing.getMessage().contains("answered HTTP 404"), missing.getMessage());
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
