package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.Shared;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training that starts from an existing PEFT adapter ({@code TrainConfig.initAdapter}). The golden fixture's adapter
 * was written by PEFT for a tiny Qwen2 (hidden 64, intermediate 160, 2 layers, 4/2 heads) with random, non-zero A
 * and B; {@link TinyModel} at hidden 64 has exactly those projection shapes (and the real tokenizer).
 */
class InitAdapterTest {
    @TempDir
    static Path tmp;
    static Path tiny64;
    static Path tiny128;
    static List<SquadExample> data;

    @BeforeAll
    static void modelsAndData() throws Exception {
        tiny64 = TinyModel.create(tmp.resolve("tiny64"), Shared.qwenTokenizerDir(), 64, 2, 5);
        tiny128 = TinyModel.create(tmp.resolve("tiny128"), Shared.qwenTokenizerDir(), 128, 2, 7);
        data = SquadReader.read(Shared.squad("train-proxy-36-articles.jsonl"), OnBadRecord.FAIL).examples().stream()
                .filter(TrainerEndToEndTest.distinctContexts()).limit(16).toList();
    }

    @Test
    void withANegligibleLearningRateTheFirstCheckpointIsTheInitAdapterAndItsConfigWins() throws Exception {
        Path golden = GoldenVariants.adapterDir();
        // The run asks for r 8, alpha 16, dropout 0 on q/v; the adapter says r 4, alpha 8, dropout 0.05, all seven.
        TrainConfig config = TrainerEndToEndTest.config(tiny64, 1, 1, 16).toBuilder().lr(1e-9).loraR(8)
                .loraDropout(0).targetModules(List.of("v_proj", "q_proj")).initAdapter(golden.toString()).build();
        Path run = tmp.resolve("negligible-lr");
        new Trainer(config, tiny64, data, data, run).evaluate(false).run(false);

        Path ckpt = run.resolve("checkpoints/epoch-0001");
        Map<String, GoldenVariants.Tensor> want = GoldenVariants.adapterTensors();
        Map<String, GoldenVariants.Tensor> got = GoldenVariants.read(ckpt.resolve("adapter_model.safetensors"));
        assertEquals(want.keySet(), got.keySet(), "the same PEFT tensors");
        double maxDiff = 0;
        double maxB = 0;
        for (String name : want.keySet()) {
            float[] w = want.get(name).values();
            float[] g = got.get(name).values();
            assertEquals(w.length, g.length, name);
            for (int i = 0; i < w.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(w[i] - g[i]));
                if (name.contains("lora_B")) {
                    maxB = Math.max(maxB, Math.abs(g[i]));
                }
            }
        }
        assertTrue(maxDiff < 1e-6, "4 steps at lr 1e-9 keep A and B as loaded; max |diff| " + maxDiff);
        assertTrue(maxB > 0.1, "B is the adapter's, not a fresh zero B: max |B| " + maxB);

        JsonNode adapterConfig = GoldenVariants.json(ckpt.resolve("adapter_config.json"));
        assertEquals(4, adapterConfig.get("r").asInt());
        assertEquals(8.0, adapterConfig.get("lora_alpha").asDouble());
        assertEquals(0.05, adapterConfig.get("lora_dropout").asDouble());
        assertEquals(7, adapterConfig.get("target_modules").size());
        TrainConfig saved = TrainConfig.read(ckpt.resolve("tuneloop_config.json"));
        assertEquals(config.withLoraOf(LoraConfig.read(golden)), saved);
        assertEquals(4, saved.loraR(), "the saved config records what was trained");
        assertEquals(golden.toString(), saved.initAdapter());
        assertEquals(saved, TrainConfig.read(run.resolve("config.json")));
        assertEquals(List.of("lora_r 8 -> 4", "lora_alpha 16.0 -> 8.0", "lora_dropout 0.0 -> 0.05",
                "target_modules [\"v_proj\",\"q_proj\"] -> [\"q_proj\",\"k_proj\",\"v_proj\",\"o_proj\",\"gate_proj\","
                        + "\"up_proj\",\"down_proj\"]"),
                config.loraChanges(LoraConfig.read(golden)), "the logged notice");

        // --resume takes precedence: the latest checkpoint holds the trained weights, the init adapter is not read
        TrainConfig gone = config.toBuilder().initAdapter(tmp.resolve("deleted-adapter").toString()).build();
        Trainer.Summary resumed = new Trainer(gone, tiny64, data, data, run).evaluate(false).run(true);
        assertEquals(4, resumed.steps());
    }

    @Test
    void continuingFromATrainedAdapterStartsWhereThatRunEnded() throws Exception {
        Path first = tmp.resolve("first");
        new Trainer(TrainerEndToEndTest.config(tiny128, 10, 10, 256), tiny128, data, data, first).evaluate(false)
                .run(false);
        Path adapter = first.resolve("checkpoints/epoch-0010");
        TrainConfig continued = TrainerEndToEndTest.config(tiny128, 5, 5, 256).toBuilder()
                .initAdapter(adapter.toString()).build();
        Path second = tmp.resolve("second");
        new Trainer(continued, tiny128, data, data, second).evaluate(false).run(false);

        // an epoch is 4 steps over all 16 examples: compare epoch means, single batches vary by a factor of 2
        List<Double> a = losses(first);
        List<Double> b = losses(second);
        double freshFirstEpoch = mean(a.subList(0, 4));
        double firstLastEpoch = mean(a.subList(a.size() - 4, a.size()));
        double continuedFirstEpoch = mean(b.subList(0, 4));
        double continuedLastEpoch = mean(b.subList(b.size() - 4, b.size()));
        System.out.printf("epoch-mean loss: fresh start %.4f, first run's last %.4f (after 40 steps); continued run"
                + " %.4f -> %.4f; first logged losses %.4f (fresh) vs %.4f (continued)%n", freshFirstEpoch,
                firstLastEpoch, continuedFirstEpoch, continuedLastEpoch, a.get(0), b.get(0));
        assertTrue(b.get(0) < a.get(0) / 3, "the continued run's first loss is far below a fresh start's: " + b.get(0)
                + " vs " + a.get(0));
        assertTrue(Math.abs(continuedFirstEpoch - firstLastEpoch) < 0.5 * firstLastEpoch,
                "the continued run starts near where the first run ended: " + continuedFirstEpoch + " vs "
                        + firstLastEpoch);
        assertTrue(continuedLastEpoch < 0.75 * continuedFirstEpoch, "and keeps lowering it: " + b);
    }

    @Test
    void anAdapterThatDoesNotFitFailsNamingTheTensorAndWritesNothing() throws Exception {
        // the golden adapter was made for hidden 64; the model has hidden 128
        TrainConfig wrongShape = TrainerEndToEndTest.config(tiny128, 1, 1, 16).toBuilder()
                .initAdapter(GoldenVariants.adapterDir().toString()).build();
        Path run1 = tmp.resolve("wrong-shape");
        InitAdapterException shape = assertThrows(InitAdapterException.class,
                () -> new Trainer(wrongShape, tiny128, data, data, run1).evaluate(false).run(false));
        assertTrue(shape.getMessage().contains("adapter tensor base_model.model.model.layers.0.self_attn.q_proj"
                + ".lora_A.weight has shape [4, 64], the base model needs [4, 128]"), shape.getMessage());
        assertFalse(Files.exists(run1), "nothing written");

        // the same tensors, but adapter_config.json targets only q_proj and v_proj
        ObjectNode qv = GoldenVariants.adapterConfig();
        qv.putArray("target_modules").add("q_proj").add("v_proj");
        Path otherTargets = GoldenVariants.adapterFolder(tmp.resolve("qv-adapter"), qv,
                GoldenVariants.adapterTensors());
        Path run2 = tmp.resolve("other-targets");
        TrainConfig wrongTargets = wrongShape.toBuilder().model(tiny64.toString())
                .initAdapter(otherTargets.toString()).build();
        InitAdapterException targets = assertThrows(InitAdapterException.class,
                () -> new Trainer(wrongTargets, tiny64, data, data, run2).evaluate(false).run(false));
        assertTrue(targets.getMessage().contains("adapter tensor base_model.model.model.layers.0.mlp.down_proj"
                + ".lora_A.weight does not fit the base model"), targets.getMessage());
        assertFalse(Files.exists(run2), "nothing written");

        Path empty = Files.createDirectories(tmp.resolve("empty-adapter"));
        Path run3 = tmp.resolve("empty");
        TrainConfig none = wrongTargets.toBuilder().initAdapter(empty.toString()).build();
        InitAdapterException missing = assertThrows(InitAdapterException.class,
                () -> new Trainer(none, tiny64, data, data, run3).evaluate(false).run(false));
        assertTrue(missing.getMessage().contains("no adapter_config.json in adapter folder " + empty),
                missing.getMessage());
        assertFalse(Files.exists(run3), "nothing written");
    }

    @Test
    void initAdapterRoundTripsThroughJsonAndTheBuilder() throws Exception {
        TrainConfig fresh = TrainerEndToEndTest.config(tiny64, 1, 1, 16);
        assertNull(fresh.initAdapter(), "fresh LoRA is the default");
        TrainConfig init = fresh.toBuilder().initAdapter("/adapters/promoted").build();
        assertEquals(init, TrainConfig.fromJson(init.toJson()));
        assertEquals(fresh, TrainConfig.fromJson(fresh.toJson()));
        assertEquals(init, init.toBuilder().build());
        ObjectNode legacy = fresh.toJson();
        legacy.remove("init_adapter");
        assertEquals(fresh, TrainConfig.fromJson(legacy), "configs saved before the option read as fresh LoRA");
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
                () -> fresh.toBuilder().initAdapter(" ").build());
        assertTrue(blank.getMessage().contains("--init-adapter ' '"), blank.getMessage());
        ObjectNode number = init.toJson();
        number.put("init_adapter", 3);
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson(number));
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    private static List<Double> losses(Path run) throws Exception {
        return MetricsLog.read(run.resolve("metrics.jsonl")).stream()
                .filter(m -> m.get("type").asText().equals("train")).map(m -> m.get("loss").asDouble()).toList();
    }
}
