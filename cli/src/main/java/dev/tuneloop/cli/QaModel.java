package dev.tuneloop.cli;

import ai.djl.Device;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.QwenTokenizer;
import dev.tuneloop.model.train.ServingPrompt;
import java.io.IOException;
import java.nio.file.Path;

/** A model folder (plus an optional adapter) loaded for answering questions with a {@link ServingPrompt}. */
record QaModel(QwenTokenizer tokenizer, Qwen2ForCausalLM lm, QaAnswerer answerer) implements AutoCloseable {

    /** @param adapterDir null for the base model */
    static QaModel open(Path modelDir, Path adapterDir, ServingPrompt prompt, int maxNewTokens) throws IOException {
        QwenTokenizer tokenizer = QwenTokenizer.load(modelDir);
        Qwen2ForCausalLM lm = null;
        try {
            ExampleEncoder encoder = new ExampleEncoder(tokenizer, prompt.template(), prompt.maxSeqLen());
            lm = Qwen2Weights.load(modelDir, ModelPaths.device());
            if (adapterDir != null) {
                LoraAdapter.load(lm, adapterDir, false);
            }
            QaAnswerer answerer = new QaAnswerer(lm, tokenizer, encoder,
                    GenerationConfig.eosIds(modelDir, lm.config()), maxNewTokens);
            return new QaModel(tokenizer, lm, answerer);
        } catch (IOException | RuntimeException e) {
            if (lm != null) {
                lm.close();
            }
            tokenizer.close();
            throw e;
        }
    }

    @Override
    public void close() {
        lm.close();
        tokenizer.close();
    }
}
