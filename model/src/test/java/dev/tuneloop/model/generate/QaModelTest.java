package dev.tuneloop.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.tuneloop.model.Shared;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.qwen2.TinyModel;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One base model, adapters swapped in turn: each answer is the one a freshly loaded model with that adapter gives. */
class QaModelTest {
    private static final String QUESTION = "Which river flows through Paris?";
    private static final String CONTEXT = "Paris lies on the Seine, a river in the north of France.";

    @TempDir
    Path tmp;

    /** An adapter with non-zero A and B (a fresh one has B = 0 and would not change any answer). */
    private Path adapter(Path modelDir, String name, long seed) throws Exception {
        Path dir = tmp.resolve(name);
        try (Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, Device.cpu())) {
            LoraConfig config = LoraConfig.of(4, 8, 0.0, List.of("q_proj", "v_proj", "down_proj"));
            LoraAdapter.initialize(lm, config, seed);
            for (var p : LoraAdapter.parameters(lm).entrySet()) {
                if (p.getKey().contains("lora_B")) {
                    NDArray b = p.getValue().getArray();
                    b.addi(b.getManager().randomNormal(0, 2f, b.getShape(), b.getDataType()));
                }
            }
            LoraAdapter.save(lm, config, dir);
        }
        return dir;
    }

    private static String answer(QaModel qa) {
        return qa.answerer(PromptTemplate.defaults(PromptMode.CONTEXT), 256, 12).answer(QUESTION, CONTEXT).text();
    }

    @Test
    void adaptersSwapOnOneBaseModelAndAFailedLoadLeavesNoAdapter() throws Exception {
        Path modelDir = TinyModel.create(tmp.resolve("tiny"), Shared.qwenTokenizerDir(), 64, 2, 7);
        Path first = adapter(modelDir, "first", 1);
        Path second = adapter(modelDir, "second", 2);
        String expectedFirst;
        String expectedSecond;
        String expectedBase;
        try (QaModel fresh = QaModel.open(modelDir, Device.cpu())) {
            expectedBase = answer(fresh);
            fresh.useAdapter(first);
            expectedFirst = answer(fresh);
        }
        try (QaModel fresh = QaModel.open(modelDir, Device.cpu())) {
            fresh.useAdapter(second);
            expectedSecond = answer(fresh);
        }
        assertNotEquals(expectedFirst, expectedSecond, "two different adapters should answer differently");

        Path broken = Files.createDirectories(tmp.resolve("broken"));
        Files.copy(first.resolve("adapter_config.json"), broken.resolve("adapter_config.json"));
        Files.writeString(broken.resolve("adapter_model.safetensors"), "not a safetensors file");

        try (QaModel qa = QaModel.open(modelDir, Device.cpu())) {
            qa.useAdapter(first);
            assertEquals(expectedFirst, answer(qa));
            qa.useAdapter(second);
            assertEquals(expectedSecond, answer(qa), "the second adapter replaces the first, nothing of it stays");
            assertThrows(Exception.class, () -> qa.useAdapter(broken));
            assertTrue(LoraAdapter.parameters(qa.lm()).isEmpty(), "a failed load must not leave the old adapter on");
            assertEquals(expectedBase, answer(qa));
            qa.useAdapter(first);
            qa.useAdapter(null);
            assertEquals(expectedBase, answer(qa));
        }
    }
}
