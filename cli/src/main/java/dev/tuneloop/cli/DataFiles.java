package dev.tuneloop.cli;

import dev.tuneloop.model.squad.BadRecord;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Dataset locations on the command line: a local file, an {@code https://} URL or an {@code s3://} URI. The CLI runs
 * on the user's own machine, so none of them is restricted here (services restrict them).
 */
final class DataFiles {
    private static final int SHOWN = 20;

    private DataFiles() {}

    static SquadData read(String location, OnBadRecord policy) throws IOException, InterruptedException {
        SquadData data;
        if (location.startsWith("https://") || location.startsWith("http://")) {
            HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(Duration.ofSeconds(30)).build();
            HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(location)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("GET " + location + " answered HTTP " + response.statusCode());
            }
            try (InputStream in = response.body()) {
                data = SquadReader.read(in, location, policy);
            }
        } else if (location.startsWith("s3://")) {
            try (InputStream in = S3Access.open(location)) {
                data = SquadReader.read(in, location, policy);
            }
        } else {
            Path file = Path.of(location);
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(location, null, "dataset file not found");
            }
            data = SquadReader.read(file, policy);
        }
        report(location, data);
        return data;
    }

    private static void report(String location, SquadData data) {
        System.err.println(location + ": " + data.summary());
        int shown = 0;
        for (BadRecord bad : data.badRecords()) {
            if (shown++ < SHOWN) {
                System.err.println("  skipped: " + bad);
            }
        }
        if (data.badRecords().size() > SHOWN) {
            System.err.println("  … and " + (data.badRecords().size() - SHOWN) + " more bad records");
        }
    }
}
