package dev.tuneloop.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.GoldenVariants;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Batched, left-padded, KV-cached greedy decoding against one prompt at a time and against the uncached path. */
class GeneratorTest {
    static Qwen2ForCausalLM lm;
    static JsonNode golden;
    static long[] goldenPrompt;
    static long[] goldenBase;
    static long[] goldenLora;

    /** Prompts of different lengths, so the batch is left-padded by 7, 0 and 3 positions. */
    static final List<long[]> PROMPTS = List.of(
            new long[] {5, 900},
            new long[] {12, 700, 33, 1000, 250, 6, 77, 512, 3},
            new long[] {77, 178, 117, 311, 124, 101});

    @BeforeAll
    static void load() throws Exception {
        lm = Qwen2Weights.load(GoldenVariants.dir(), Device.cpu());
        golden = GoldenVariants.json(GoldenVariants.dir().resolve("golden.json"));
        goldenPrompt = ids(golden.get("greedy_prompt_ids"));
        goldenBase = ids(golden.get("greedy_new_ids_base"));
        goldenLora = ids(golden.get("greedy_new_ids_lora"));
        assertArrayEquals(goldenPrompt, PROMPTS.get(2), "the third prompt is the golden one");
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void batchedLeftPaddedEqualsEachPromptAloneAndUncached() throws Exception {
        Generator gen = new Generator(lm, List.of());
        checkBatchAgainstSingles(gen, goldenBase);
        LoraAdapter.load(lm, GoldenVariants.adapterDir(), false);
        try {
            checkBatchAgainstSingles(gen, goldenLora);
        } finally {
            LoraAdapter.detach(lm);
        }
    }

    private static void checkBatchAgainstSingles(Generator gen, long[] goldenIds) {
        List<long[]> batched = gen.greedy(PROMPTS, 10, false);
        assertEquals(PROMPTS.size(), batched.size());
        assertArrayEquals(goldenIds, batched.get(2), "golden prompt inside a padded batch");
        for (int i = 0; i < PROMPTS.size(); i++) {
            long[] alone = gen.greedy(PROMPTS.get(i), 10);
            assertEquals(10, alone.length);
            assertArrayEquals(alone, batched.get(i), "prompt " + i + ": batched vs alone");
            assertArrayEquals(gen.greedyUncached(PROMPTS.get(i), 10), batched.get(i), "prompt " + i + ": vs uncached");
        }
    }

    @Test
    void stopsRightAfterEmittingEos() {
        long eos = goldenBase[2]; // the third greedy token of the base model
        Generator gen = new Generator(lm, List.of(151645L, eos));
        long[] want = {goldenBase[0], goldenBase[1], eos};
        assertArrayEquals(want, gen.greedy(goldenPrompt, 10));
        assertArrayEquals(want, gen.greedyUncached(goldenPrompt, 10));
        assertArrayEquals(goldenBase, gen.greedy(List.of(goldenPrompt), 10, true).get(0), "ignoreEos runs on");

        // In a batch each row stops on its own; the others run to their own end.
        Generator noEos = new Generator(lm, List.of());
        List<long[]> batched = gen.greedy(PROMPTS, 10, false);
        assertArrayEquals(want, batched.get(2));
        for (int i = 0; i < 2; i++) {
            long[] full = noEos.greedy(PROMPTS.get(i), 10);
            int stop = 0;
            while (stop < full.length && full[stop] != eos) {
                stop++;
            }
            long[] expected = Arrays.copyOf(full, Math.min(full.length, stop + 1));
            assertArrayEquals(expected, batched.get(i), "row " + i);
        }
    }

    @Test
    void eosIdsComeAsIntOrList() throws Exception {
        assertEquals(List.of(2L), Qwen2Config.eosIds(GoldenVariants.JSON.readTree("2")));
        assertEquals(List.of(151645L, 151643L), Qwen2Config.eosIds(GoldenVariants.JSON.readTree("[151645, 151643]")));
        assertEquals(List.of(), Qwen2Config.eosIds(null));
        assertEquals(List.of(), Qwen2Config.eosIds(GoldenVariants.JSON.readTree("null")));
        var bad = assertThrows(IllegalArgumentException.class,
                () -> Qwen2Config.eosIds(GoldenVariants.JSON.readTree("\"</s>\"")));
        assertTrue(bad.getMessage().contains("eos_token_id") && bad.getMessage().contains("</s>"), bad.getMessage());
        bad = assertThrows(IllegalArgumentException.class,
                () -> Qwen2Config.eosIds(GoldenVariants.JSON.readTree("[151645, 1.5]")));
        assertTrue(bad.getMessage().contains("1.5"), bad.getMessage());

        ObjectNode config = GoldenVariants.modelConfig();
        assertEquals(List.of(2L), Qwen2Config.fromJson(config, "tiny").eosTokenIds());
        config.putArray("eos_token_id").add(151645).add(151643);
        assertEquals(List.of(151645L, 151643L), Qwen2Config.fromJson(config, "tiny").eosTokenIds());
    }

    @Test
    void degenerateRequests() {
        Generator gen = new Generator(lm, List.of());
        assertEquals(0, gen.greedy(goldenPrompt, 0).length, "no new tokens asked for");
        var e = assertThrows(IllegalArgumentException.class,
                () -> gen.greedy(List.of(goldenPrompt, new long[0]), 3, false));
        assertTrue(e.getMessage().contains("at least one token"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gen.greedy(goldenPrompt, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gen.greedy(List.of(), 3, false));
        assertTrue(e.getMessage().contains("prompt"), e.getMessage());
    }

    @Test
    void rowsHaveTheirOwnLimitsAndAListenerEndsARow() {
        Generator gen = new Generator(lm, List.of());
        List<long[]> full = gen.greedy(PROMPTS, 10, false);
        List<Generator.Row> rows = List.of(new Generator.Row(PROMPTS.get(0), 3, Sampling.GREEDY),
                new Generator.Row(PROMPTS.get(1), 10, Sampling.GREEDY),
                new Generator.Row(PROMPTS.get(2), 0, Sampling.GREEDY));
        List<Long> seen = new java.util.ArrayList<>();
        List<long[]> out = gen.generate(rows, false, (row, token) -> {
            if (row == 1) {
                seen.add(token);
            }
            return !(row == 1 && seen.size() == 5); // end row 1 after its fifth token
        });
        assertArrayEquals(Arrays.copyOf(full.get(0), 3), out.get(0), "row 0 stops at its own 3 tokens");
        assertArrayEquals(Arrays.copyOf(full.get(1), 5), out.get(1), "row 1 ends when the listener says so");
        assertEquals(0, out.get(2).length, "row 2 asked for none");
        assertEquals(5, seen.size(), "no token of an ended row reaches the listener");
    }

    @Test
    void samplingIsSeededAndANarrowNucleusOrAColdTemperatureIsGreedy() {
        Generator gen = new Generator(lm, List.of());
        long[] prompt = PROMPTS.get(2);
        List<long[]> greedy = gen.greedy(List.of(prompt), 10, false);
        assertArrayEquals(greedy.get(0), one(gen, prompt, new Sampling(1.0, 1e-6, 3)), "top_p 1e-6 keeps one token");
        assertArrayEquals(greedy.get(0), one(gen, prompt, new Sampling(1e-4, 1.0, 3)), "temperature 1e-4");

        long[] a = one(gen, prompt, new Sampling(1.5, 1.0, 11));
        assertArrayEquals(a, one(gen, prompt, new Sampling(1.5, 1.0, 11)), "same seed, same tokens");
        boolean differs = false;
        for (long seed = 12; seed < 16 && !differs; seed++) {
            differs = !Arrays.equals(a, one(gen, prompt, new Sampling(1.5, 1.0, seed)));
        }
        assertTrue(differs, "at temperature 1.5 over 1024 tokens, five seeds cannot all draw the same 10 tokens");

        // A sampled row does not disturb the greedy rows batched with it.
        List<long[]> mixed = gen.generate(List.of(new Generator.Row(PROMPTS.get(0), 10, Sampling.GREEDY),
                new Generator.Row(prompt, 10, new Sampling(1.5, 1.0, 11))), false, (row, token) -> true);
        assertArrayEquals(gen.greedy(PROMPTS.get(0), 10), mixed.get(0));
        assertArrayEquals(a, mixed.get(1), "the sampled row draws the same tokens inside a batch");

        assertThrows(IllegalArgumentException.class, () -> new Sampling(-0.1, 1, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> new Sampling(1, 0, 0));
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
    }

    private static long[] one(Generator gen, long[] prompt, Sampling sampling) {
        return gen.generate(List.of(new Generator.Row(prompt, 10, sampling)), false, (row, token) -> true).get(0);
    }

    private static long[] ids(JsonNode n) {
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asLong();
        }
        return out;
    }
}
