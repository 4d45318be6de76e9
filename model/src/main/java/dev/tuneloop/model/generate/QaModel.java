package dev.tuneloop.model.generate;

import ai.djl.Device;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.PromptTemplate;
import dev.tuneloop.model.text.QwenTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A base model folder loaded once for answering questions, with PEFT adapters loaded onto it in turn: the CLI
 * answers with one adapter, an evaluation service scores many checkpoints on the same base model. One adapter is
 * active at a time; not thread-safe.
 */
public final class QaModel implements AutoCloseable {
    private final Path modelDir;
    private final QwenTokenizer tokenizer;
    private final Qwen2ForCausalLM lm;
    private final List<Long> eosIds;

    private QaModel(Path modelDir, QwenTokenizer tokenizer, Qwen2ForCausalLM lm, List<Long> eosIds) {
        this.modelDir = modelDir;
        this.tokenizer = tokenizer;
        this.lm = lm;
        this.eosIds = eosIds;
    }

    /** Loads the tokenizer and weights of a Hugging Face model folder (no adapter). */
    public static QaModel open(Path modelDir, Device device) throws IOException {
        QwenTokenizer tokenizer = QwenTokenizer.load(modelDir);
        Qwen2ForCausalLM lm = null;
        try {
            lm = Qwen2Weights.load(modelDir, device);
            return new QaModel(modelDir, tokenizer, lm, GenerationConfig.eosIds(modelDir, lm.config()));
        } catch (IOException | RuntimeException e) {
            if (lm != null) {
                lm.close();
            }
            tokenizer.close();
            throw e;
        }
    }

    /**
     * Loads the adapter folder in place of the current adapter; {@code null} goes back to the base model. If loading
     * fails the model is left without any adapter, never with a mix of two.
     */
    public LoraConfig useAdapter(Path adapterDir) throws IOException {
        if (adapterDir == null) {
            LoraAdapter.detach(lm);
            return null;
        }
        try {
            return LoraAdapter.load(lm, adapterDir, false);
        } catch (IOException | RuntimeException e) {
            LoraAdapter.detach(lm);
            throw e;
        }
    }

    /**
     * Answers with {@code template} (prompts truncated to {@code maxSeqLen}) on the adapter loaded now; a
     * {@code maxSeqLen} beyond the model's positions is refused.
     */
    public QaAnswerer answerer(PromptTemplate template, int maxSeqLen, int maxNewTokens) {
        int maxPositions = lm.config().maxPositionEmbeddings();
        if (maxSeqLen > maxPositions) {
            throw new IllegalArgumentException("max_seq_len " + maxSeqLen + " is more than the model's "
                    + "max_position_embeddings " + maxPositions + " (" + modelDir.resolve("config.json") + ")");
        }
        return new QaAnswerer(lm, tokenizer, new ExampleEncoder(tokenizer, template, maxSeqLen), eosIds, maxNewTokens);
    }

    public Path modelDir() {
        return modelDir;
    }

    public QwenTokenizer tokenizer() {
        return tokenizer;
    }

    public Qwen2ForCausalLM lm() {
        return lm;
    }

    @Override
    public void close() {
        try {
            lm.close();
        } finally {
            tokenizer.close();
        }
    }
}
