package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving builds the prompt the adapter was trained on; plain PEFT adapters and the base model get the defaults. */
class ServingPromptTest {
    @TempDir
    Path tmp;

    static TrainConfig trainedWith(PromptTemplate prompt, int maxSeqLen) {
        return TrainConfig.builder("m", "train.jsonl", "eval.jsonl").epochs(1).maxSeqLen(maxSeqLen).prompt(prompt)
                .build();
    }

    @Test
    void adapterWithTuneloopConfigServesItsTemplateAndLength() throws Exception {
        PromptTemplate custom = new PromptTemplate(PromptMode.QUESTION_ONLY, "Be brief.", "Q: {question}");
        trainedWith(custom, 384).write(tmp.resolve(ServingPrompt.CONFIG_FILE));
        ServingPrompt p = ServingPrompt.forAdapter(tmp);
        assertEquals(custom, p.template());
        assertEquals(384, p.maxSeqLen());
        assertTrue(p.describe().contains(tmp.resolve(ServingPrompt.CONFIG_FILE).toString()), p.describe());
    }

    @Test
    void plainPeftAdapterAndBaseModelGetContextDefaultsAnd1024() throws Exception {
        Files.writeString(tmp.resolve("adapter_config.json"), "{}");
        for (ServingPrompt p : new ServingPrompt[] {ServingPrompt.forAdapter(tmp), ServingPrompt.forAdapter(null)}) {
            assertEquals(PromptTemplate.defaults(PromptMode.CONTEXT), p.template());
            assertEquals(1024, p.maxSeqLen());
        }
        assertTrue(ServingPrompt.forAdapter(tmp).source().contains("has no tuneloop_config.json"));
    }

    @Test
    void modeOverrideKeepsACustomTemplateOfTheSameModeAndReplacesAnother() throws Exception {
        PromptTemplate custom = new PromptTemplate(PromptMode.CONTEXT, "Sys.", "C: {context}\nQ: {question}");
        trainedWith(custom, 256).write(tmp.resolve(ServingPrompt.CONFIG_FILE));
        ServingPrompt trained = ServingPrompt.forAdapter(tmp);
        assertSame(trained, trained.withMode(PromptMode.CONTEXT));
        ServingPrompt questionOnly = trained.withMode(PromptMode.QUESTION_ONLY);
        assertEquals(PromptTemplate.defaults(PromptMode.QUESTION_ONLY), questionOnly.template());
        assertEquals(256, questionOnly.maxSeqLen(), "the length is a separate override");
        assertEquals(2048, trained.withMaxSeqLen(2048).maxSeqLen());
        assertEquals(custom, trained.withMaxSeqLen(2048).template());
    }

    @Test
    void brokenConfigFileIsNamedNotIgnored() throws Exception {
        Path file = tmp.resolve(ServingPrompt.CONFIG_FILE);
        String json = trainedWith(PromptTemplate.defaults(PromptMode.CONTEXT), 512).toJson().toString()
                .replace("\"mode\":\"context\"", "\"mode\":\"contex\"");
        Files.writeString(file, json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServingPrompt.forAdapter(tmp));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("contex"), e.getMessage());
    }

    @Test
    void lengthOutsideTheTrainableRangeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServingPrompt.defaults().withMaxSeqLen(8));
        assertTrue(e.getMessage().contains("max_seq_len 8"), e.getMessage());
    }
}
