package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --init-adapter DIR}: the option, its checks, and a run that starts from the adapter's weights. */
class TrainInitAdapterTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path noise;
    static Path train;

    @BeforeAll
    static void modelAdapterData() throws Exception {
        model = Fixtures.tinyQwen(tmp, 3);
        noise = Fixtures.noiseAdapter(tmp, model, 5);
        train = Fixtures.devQuestions(tmp, "train.jsonl", 4);
    }

    @Test
    void theOptionIsRecordedAsAnAbsoluteFolderAndAFolderWithoutAdapterIsAUsageError() throws Exception {
        Args args = new Args("train", new String[] {"--model", "m", "--train", "t", "--eval", "e", "--init-adapter",
                noise.toString()}, Set.of("resume"));
        TrainConfig c = TrainCommand.parse(args, null);
        args.finish();
        assertEquals(noise.toAbsolutePath().normalize().toString(), c.initAdapter());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CliRun run = CliRun.of("train", "--model", model.toString(), "--train", train.toString(), "--eval",
                train.toString(), "--out", tmp.resolve("never").toString(), "--init-adapter", empty.toString());
        assertEquals(2, run.exitCode(), run.describe());
        assertTrue(run.err().contains("--init-adapter " + empty + " is not a PEFT adapter folder (no"
                + " adapter_config.json in it)"), run.describe());
        assertFalse(Files.exists(tmp.resolve("never")));
    }

    @Test
    void trainingStartsFromTheAdaptersWeights() throws Exception {
        Path out = tmp.resolve("run");
        CliRun run = CliRun.of("train", "--model", model.toString(), "--train", train.toString(), "--eval",
                train.toString(), "--out", out.toString(), "--epochs", "1", "--batch-size", "2", "--grad-accum", "1",
                "--eval-limit", "1", "--eval-max-new-tokens", "2", "--max-seq-len", "160", "--lr", "1e-9",
                "--lora-r", "4", "--init-adapter", noise.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.err().contains("lora_r 4 -> 8"), "the adapter's r wins, with a notice: " + run.describe());
        Path ckpt = out.resolve("checkpoints/epoch-0001");
        double maxDiff = 0;
        try (SafetensorsFile want = SafetensorsFile.open(noise.resolve("adapter_model.safetensors"));
                SafetensorsFile got = SafetensorsFile.open(ckpt.resolve("adapter_model.safetensors"))) {
            assertEquals(want.tensors().keySet(), got.tensors().keySet());
            for (String name : want.tensors().keySet()) {
                float[] w = want.floats(name);
                float[] g = got.floats(name);
                for (int i = 0; i < w.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(w[i] - g[i]));
                }
            }
        }
        assertTrue(maxDiff < 1e-6, "2 steps at lr 1e-9 leave A and B as loaded: max |diff| " + maxDiff);
        TrainConfig saved = TrainConfig.read(out.resolve("config.json"));
        assertEquals(noise.toAbsolutePath().normalize().toString(), saved.initAdapter());
        assertEquals(8, saved.loraR());
    }
}
