package dev.tuneloop.model.hub;

import static dev.tuneloop.model.hub.FakeHub.COMMIT;
import static dev.tuneloop.model.hub.FakeHub.REPO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: the local cache runs out of space while a model downloads. A child JVM resolves {@code --model owner/name}
 * as the CLI does, from a loopback hub, under {@code ulimit -f} (a real file-size limit of the process: writes past
 * it fail with EFBIG, as on a full disk or an exhausted quota). It must fail with an error naming the file and the
 * cause, leave nothing in {@code snapshots/} and no blob under its final name; the next run with room completes,
 * resuming the kept {@code .incomplete} file and verifying the whole blob's sha256 before it is used.
 */
class DiskFullFaultTest {
    /**
     * The file-size limit in KiB (ulimit -f counts 1024-byte blocks, per file): above the tiny model's 611 KB
     * weights, under the real 5.4 MB tokenizer.json, which is the file that runs out of space.
     */
    private static final int LIMIT_KIB = 1024;

    @TempDir
    Path cache;

    @Test
    void aFullDiskFailsClearlyAndThePartialFileIsNeverUsedAsTheModel() throws Exception {
        byte[] config = Files.readAllBytes(Shared.tinyGolden().resolve("config.json"));
        byte[] weights = Files.readAllBytes(Shared.tinyGolden().resolve("model.safetensors"));
        byte[] tokenizer = Files.readAllBytes(Shared.qwenTokenizerDir().resolve("tokenizer.json"));
        byte[] tokenizerConfig = Files.readAllBytes(Shared.qwenTokenizerDir().resolve("tokenizer_config.json"));
        String etag = FakeHub.sha256(tokenizer);
        try (FakeHub hub = new FakeHub().serve("config.json", config, false)
                .serve("tokenizer.json", tokenizer, true)
                .serve("tokenizer_config.json", tokenizerConfig, false)
                .serve("model.safetensors", weights, true)) {
            Child full = resolve(hub, "ulimit -f " + LIMIT_KIB + "; ");
            assertEquals(1, full.exit(), full.toString());
            assertTrue(full.stderr().contains("error: cannot write ") && full.stderr().contains(etag + ".incomplete")
                    && full.stderr().contains("File too large"), "a clear error naming the file: " + full);

            Path repo = cache.resolve("models--tiny--qwen2");
            Path incomplete = repo.resolve("blobs").resolve(etag + ".incomplete");
            long kept = Files.size(incomplete);
            assertEquals(LIMIT_KIB * 1024L, kept, "the partial download, up to the limit, is kept to resume");
            assertFalse(Files.exists(repo.resolve("blobs").resolve(etag)), "no blob under its final name");
            assertEquals(List.of(COMMIT, COMMIT + "/config.json"), listTree(repo.resolve("snapshots")),
                    "only complete files are linked into snapshots/");
            assertArrayEquals(config, Files.readAllBytes(repo.resolve("snapshots").resolve(COMMIT)
                    .resolve("config.json")));

            Child offline = resolve(hub, "export HF_HUB_OFFLINE=1; ");
            assertEquals(1, offline.exit(), offline.toString());
            assertTrue(offline.stderr().contains("tokenizer.json"),
                    "the cache without the failed file is not taken for the model: " + offline);

            hub.clearRequests();
            Child roomy = resolve(hub, "");
            assertEquals(0, roomy.exit(), roomy.toString());
            Path snapshot = repo.resolve("snapshots").resolve(COMMIT);
            assertEquals(snapshot.toString(), roomy.stdout().strip());
            assertArrayEquals(tokenizer, Files.readAllBytes(snapshot.resolve("tokenizer.json")));
            assertEquals(etag, BlobDownload.sha256(snapshot.resolve("tokenizer.json")));
            assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            assertFalse(Files.exists(incomplete));
            List<FakeHub.Request> gets = hub.requests("cdn", "GET");
            assertEquals(2, gets.size(), "tokenizer.json and the weights: " + gets);
            assertEquals("bytes=" + kept + "-", gets.get(0).range(),
                    "the second run resumes the kept part instead of downloading it again");
        }
    }

    private record Child(int exit, String stdout, String stderr) {}

    private Child resolve(FakeHub hub, String limit) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = limit + "exec " + quote(java) + " -XX:-UsePerfData -cp "
                + quote(System.getProperty("java.class.path")) + " " + ResolveModelMain.class.getName() + " " + REPO;
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", command);
        pb.environment().put("HF_ENDPOINT", hub.endpoint().toString());
        pb.environment().put("HF_HUB_CACHE", cache.toString());
        pb.environment().remove("HF_TOKEN");
        pb.environment().remove("HF_HUB_OFFLINE");
        Path out = Files.createTempFile("resolve-out", ".txt");
        Path err = Files.createTempFile("resolve-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish within 120 s: " + Files.readString(err));
        }
        Child child = new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return child;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static List<String> listTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(p -> !p.equals(dir)).forEach(p -> out.add(dir.relativize(p).toString()));
        }
        return out;
    }
}
