package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train}'s options become the validated config; defaults are the README's. */
class TrainOptionsTest {
    @TempDir
    Path tmp;

    private static TrainConfig parse(String... argv) {
        Args args = new Args("train", argv, Set.of("resume"));
        TrainConfig c = TrainCommand.parse(args, null);
        args.finish();
        return c;
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        TrainConfig c = parse("--model", "m", "--train", "t.jsonl", "--eval", "e.jsonl");
        assertEquals(3, c.epochs());
        assertEquals(2e-4, c.lr());
        assertEquals(0.03, c.warmupRatio());
        assertEquals(8, c.loraR());
        assertEquals(16.0, c.loraAlpha());
        assertEquals(512, c.maxSeqLen());
        assertEquals(200, c.evalLimit());
        assertEquals(PromptMode.CONTEXT, c.prompt().mode());
        assertTrue(c.recompute());
    }

    @Test
    void customPromptTemplateFromAFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("prompt.json"), "{\"mode\":\"context\",\"system_prompt\":\"Be brief.\","
                + "\"user_template\":\"{context}\\n\\nQ: {question}\"}");
        TrainConfig c = parse("--model", "m", "--train", "t", "--eval", "e", "--prompt-template", file.toString());
        assertEquals("Be brief.", c.prompt().systemPrompt());
        assertEquals("{context}\n\nQ: {question}", c.prompt().userTemplate());
    }

    @Test
    void badValuesAreNamed() throws Exception {
        Args.UsageException lr = assertThrows(Args.UsageException.class,
                () -> parse("--model", "m", "--train", "t", "--eval", "e", "--lr", "0"));
        assertTrue(lr.getMessage().contains("--lr 0.0"), lr.getMessage());
        Args.UsageException r = assertThrows(Args.UsageException.class,
                () -> parse("--model", "m", "--train", "t", "--eval", "e", "--lora-r", "0"));
        assertTrue(r.getMessage().contains("--lora-r 0"), r.getMessage());
        Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"mode\":\"context\",\"system_prompt\":\"x\","
                + "\"user_template\":\"no placeholders\"}");
        Args.UsageException t = assertThrows(Args.UsageException.class, () -> parse("--model", "m", "--train", "t",
                "--eval", "e", "--prompt-template", bad.toString()));
        assertTrue(t.getMessage().contains("--prompt-template " + bad), t.getMessage());
        Args.UsageException unknown = assertThrows(Args.UsageException.class,
                () -> parse("--model", "m", "--train", "t", "--eval", "e", "--epohcs", "2"));
        assertTrue(unknown.getMessage().contains("unknown option --epohcs"), unknown.getMessage());
    }
}
