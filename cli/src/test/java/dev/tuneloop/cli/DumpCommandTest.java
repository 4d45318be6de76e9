package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.safetensors.DType;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.safetensors.SafetensorsWriter;
import dev.tuneloop.model.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tuneloop dump} on the golden fixture, checked as the acceptance check does: logits at valid positions, the
 * loss, and every LoRA gradient against the float64 reference, within golden.json's tolerances.
 */
class DumpCommandTest {
    static JsonNode golden;
    static SafetensorsFile goldenTensors;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        golden = Fixtures.goldenJson();
        goldenTensors = SafetensorsFile.open(Fixtures.tinyGolden().resolve("golden.safetensors"));
    }

    @AfterAll
    static void close() {
        goldenTensors.close();
    }

    @Test
    void withAdapterMatchesReferenceLogitsLossAndEveryLoraGradient() throws Exception {
        Path model = Fixtures.minimalModel(tmp);
        Path adapter = Fixtures.minimalAdapter(tmp);
        Path in = writeBatch(tmp.resolve("in.safetensors"), "input_ids", "attention_mask", "labels");
        Path out = tmp.resolve("out.safetensors");

        CliRun run = CliRun.of("dump", "--model", model.toString(), "--adapter", adapter.toString(),
                "--batch", in.toString(), "--out", out.toString());

        assertEquals(0, run.exitCode(), run.describe());
        Set<String> adapterKeys;
        try (SafetensorsFile a = SafetensorsFile.open(adapter.resolve("adapter_model.safetensors"))) {
            adapterKeys = a.tensors().keySet();
        }
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            checkLogits(got, "logits_lora");
            checkLoss(got, "loss_lora");
            Set<String> want = new TreeSet<>(List.of("logits", "loss"));
            adapterKeys.forEach(k -> want.add("grad." + k));
            assertEquals(want, got.tensors().keySet(), "OUT holds logits, loss and grad.<key> for every adapter tensor");
            Set<String> goldenGrads = goldenTensors.tensors().keySet().stream().filter(k -> k.startsWith("grad."))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(goldenGrads, new TreeSet<>(got.tensors().keySet().stream()
                    .filter(k -> k.startsWith("grad.")).toList()), "the reference's gradient keys");
            double tol = golden.get("tolerance").get("grad_rel_l2").asDouble();
            for (String key : goldenGrads) {
                TensorInfo info = got.info(key);
                assertEquals(DType.F32, info.dtype(), key);
                assertArrayEquals(goldenTensors.info(key).shape(), info.shape(), key + " shape");
                float[] g = got.floats(key);
                float[] w = goldenTensors.floats(key);
                double rel = relL2(g, w);
                assertTrue(rel <= tol, key + ": relative L2 error " + rel + " > " + tol + " (first values got "
                        + g[0] + ", " + g[1] + "; want " + w[0] + ", " + w[1] + ")");
            }
        }
    }

    @Test
    void withoutAdapterOnShardedCheckpointMatchesReferenceAndIgnoresExtraBatchTensors() throws Exception {
        Path model = shardedModel(tmp.resolve("sharded"));
        Path out = tmp.resolve("out.safetensors");
        // golden.safetensors itself as IN: it also holds logits_base, grad.* … which dump must ignore
        CliRun run = CliRun.of("dump", "--model", model.toString(), "--batch",
                Fixtures.tinyGolden().resolve("golden.safetensors").toString(), "--out", out.toString());

        assertEquals(0, run.exitCode(), run.describe());
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            assertEquals(Set.of("logits", "loss"), got.tensors().keySet(), "no gradients without an adapter");
            checkLogits(got, "logits_base");
            checkLoss(got, "loss_base");
        }
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path in = writeBatch(tmp.resolve("in.safetensors"), "input_ids", "attention_mask");
        CliRun run = dump(in);
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains("missing tensor 'labels'") && run.err().contains(in.toString()), run.describe());
    }

    @Test
    void wrongDtypeIsNamed() throws Exception {
        Path in = tmp.resolve("in.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : List.of("attention_mask", "labels")) {
            w.putLongs(name, goldenTensors.info(name).shape(), goldenTensors.longs(name));
        }
        long[] ids = goldenTensors.longs("input_ids");
        float[] asFloats = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            asFloats[i] = ids[i];
        }
        w.putFloats("input_ids", goldenTensors.info("input_ids").shape(), asFloats);
        w.write(in);
        CliRun run = dump(in);
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains("tensor 'input_ids' has dtype F32, expected I64"), run.describe());
    }

    @Test
    void mismatchedShapesAreNamed() throws Exception {
        Path in = tmp.resolve("in.safetensors");
        long[] shape = goldenTensors.info("input_ids").shape(); // [2, 12]
        new SafetensorsWriter()
                .putLongs("input_ids", shape, goldenTensors.longs("input_ids"))
                .putLongs("attention_mask", shape, goldenTensors.longs("attention_mask"))
                .putLongs("labels", new long[] {shape[1], shape[0]}, goldenTensors.longs("labels"))
                .write(in);
        CliRun run = dump(in);
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains("tensor 'labels' has shape [12, 2], but 'input_ids' has [2, 12]"), run.describe());
    }

    @Test
    void tokenIdOutsideTheVocabularyIsNamed() throws Exception {
        Path in = tmp.resolve("in.safetensors");
        long[] shape = goldenTensors.info("input_ids").shape();
        long[] ids = goldenTensors.longs("input_ids");
        ids[3] = 5000;
        new SafetensorsWriter()
                .putLongs("input_ids", shape, ids)
                .putLongs("attention_mask", shape, goldenTensors.longs("attention_mask"))
                .putLongs("labels", shape, goldenTensors.longs("labels"))
                .write(in);
        CliRun run = dump(in);
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains("'input_ids' value 5000 at row 0, position 3 is outside the vocabulary [0, 1024)"),
                run.describe());
    }

    @Test
    void batchFileThatIsNotSafetensorsFails() throws Exception {
        Path in = Files.writeString(tmp.resolve("in.safetensors"), "{\"input_ids\": [1, 2, 3]}");
        CliRun run = dump(in);
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains(in.toString()) && run.err().contains("header length"), run.describe());
        assertFalse(Files.exists(tmp.resolve("out.safetensors")), "no output on failure");
    }

    @Test
    void missingModelOptionIsAUsageError() {
        CliRun run = CliRun.of("dump", "--batch", "in.safetensors", "--out", "out.safetensors");
        assertEquals(2, run.exitCode(), run.describe());
        assertTrue(run.err().contains("missing required option --model"), run.describe());
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun run = CliRun.of("dump", "--model", Fixtures.tinyGolden().toString(), "--batch", "in.safetensors",
                "--out", "out.safetensors", "--adaptor", "x");
        assertEquals(2, run.exitCode(), run.describe());
        assertTrue(run.err().contains("unknown option --adaptor"), run.describe());
    }

    @Test
    void modelFolderThatDoesNotExistIsNamed() {
        CliRun run = CliRun.of("dump", "--model", tmp.resolve("nope").toString(), "--batch", "in.safetensors",
                "--out", "out.safetensors");
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().contains("--model " + tmp.resolve("nope")) && run.err().contains("does not exist"),
                run.describe());
    }

    private CliRun dump(Path in) {
        return CliRun.of("dump", "--model", Fixtures.tinyGolden().toString(), "--batch", in.toString(),
                "--out", tmp.resolve("out.safetensors").toString());
    }

    /** The named I64 tensors of the golden batch, and nothing else. */
    private static Path writeBatch(Path file, String... names) throws Exception {
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : names) {
            w.putLongs(name, goldenTensors.info(name).shape(), goldenTensors.longs(name));
        }
        w.write(file);
        return file;
    }

    /** The fixture's weights split into two shards with a model.safetensors.index.json, nothing else. */
    private static Path shardedModel(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.copy(Fixtures.tinyGolden().resolve("config.json"), dir.resolve("config.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        try (SafetensorsFile model = SafetensorsFile.open(Fixtures.tinyGolden().resolve("model.safetensors"))) {
            List<String> names = new ArrayList<>(model.tensors().keySet());
            String[] shards = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
            for (int s = 0; s < 2; s++) {
                SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
                for (String name : names.subList(s * names.size() / 2, (s + 1) * names.size() / 2)) {
                    w.putFloats(name, model.info(name).shape(), model.floats(name));
                    map.put(name, shards[s]);
                }
                w.write(dir.resolve(shards[s]));
            }
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), json.writeValueAsString(index));
        return dir;
    }

    private static void checkLogits(SafetensorsFile got, String goldenKey) {
        TensorInfo info = got.info("logits");
        assertEquals(DType.F32, info.dtype(), "logits dtype");
        assertArrayEquals(goldenTensors.info(goldenKey).shape(), info.shape(), "logits shape [B, T, V]");
        long[] shape = info.shape();
        int positions = (int) (shape[0] * shape[1]);
        int vocab = (int) shape[2];
        long[] mask = goldenTensors.longs("attention_mask");
        float[] g = got.floats("logits");
        float[] w = goldenTensors.floats(goldenKey);
        double maxDiff = 0;
        int valid = 0;
        for (int p = 0; p < positions; p++) {
            if (mask[p] == 0) {
                continue; // padded positions are unspecified
            }
            valid++;
            for (int v = 0; v < vocab; v++) {
                maxDiff = Math.max(maxDiff, Math.abs(g[p * vocab + v] - w[p * vocab + v]));
            }
        }
        double tol = golden.get("tolerance").get("logits_abs").asDouble();
        assertTrue(valid > shape[1], "the fixture has valid positions in both rows");
        assertTrue(maxDiff <= tol, goldenKey + ": max |diff| " + maxDiff + " > " + tol);
    }

    private static void checkLoss(SafetensorsFile got, String goldenKey) {
        TensorInfo info = got.info("loss");
        assertEquals(DType.F32, info.dtype(), "loss dtype");
        assertArrayEquals(new long[] {1}, info.shape(), "loss shape");
        assertEquals(golden.get(goldenKey).asDouble(), got.floats("loss")[0],
                golden.get("tolerance").get("loss_abs").asDouble(), goldenKey);
    }

    private static double relL2(float[] got, float[] want) {
        assertEquals(want.length, got.length, "gradient size");
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
