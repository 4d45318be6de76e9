package dev.tuneloop.model.train;

import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.text.PromptTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The prompt an adapter is served with: whoever serves an adapter builds the prompt it was trained on. An adapter
 * folder written by tuneloop holds {@value #CONFIG_FILE} (the run's {@link TrainConfig}); its {@code prompt} template
 * and {@code max_seq_len} are used. A plain PEFT adapter folder (or no adapter: the base model) gets
 * {@link PromptTemplate#defaults} in context mode and {@value #DEFAULT_MAX_SEQ_LEN} tokens.
 *
 * @param source where the template and length come from, for logs (e.g. the config file, or "defaults")
 */
public record ServingPrompt(PromptTemplate template, int maxSeqLen, String source) {
    public static final String CONFIG_FILE = "tuneloop_config.json";
    public static final int DEFAULT_MAX_SEQ_LEN = 1024;

    public ServingPrompt {
        if (template == null) {
            throw new IllegalArgumentException("serving prompt template must not be null");
        }
        if (maxSeqLen < 16 || maxSeqLen > 32768) {
            throw new IllegalArgumentException("max_seq_len " + maxSeqLen + " must be in [16, 32768]");
        }
    }

    /** The base model's prompt (no adapter). */
    public static ServingPrompt defaults() {
        return new ServingPrompt(PromptTemplate.defaults(PromptMode.CONTEXT), DEFAULT_MAX_SEQ_LEN, "defaults");
    }

    /** The prompt of the adapter in {@code adapterDir}; {@code null} means the base model. */
    public static ServingPrompt forAdapter(Path adapterDir) throws IOException {
        if (adapterDir == null) {
            return defaults();
        }
        Path file = adapterDir.resolve(CONFIG_FILE);
        if (!Files.exists(file)) {
            return new ServingPrompt(PromptTemplate.defaults(PromptMode.CONTEXT), DEFAULT_MAX_SEQ_LEN,
                    "defaults: " + adapterDir + " has no " + CONFIG_FILE);
        }
        TrainConfig trained = TrainConfig.read(file); // errors name the file
        return new ServingPrompt(trained.prompt(), trained.maxSeqLen(), file.toString());
    }

    /**
     * This prompt in another mode: the same template if the mode is unchanged (a customised template is kept),
     * otherwise that mode's default template.
     */
    public ServingPrompt withMode(PromptMode mode) {
        if (mode == template.mode()) {
            return this;
        }
        return new ServingPrompt(PromptTemplate.defaults(mode), maxSeqLen,
                "default " + mode.jsonName() + " template (overriding " + source + ")");
    }

    public ServingPrompt withMaxSeqLen(int tokens) {
        return tokens == maxSeqLen ? this
                : new ServingPrompt(template, tokens, source + "; max_seq_len " + maxSeqLen + " overridden");
    }

    public PromptMode mode() {
        return template.mode();
    }

    /** One line for logs, e.g. {@code prompt mode context, max_seq_len 512 (from …/tuneloop_config.json)}. */
    public String describe() {
        return "prompt mode " + template.mode().jsonName() + ", max_seq_len " + maxSeqLen + " (from " + source + ")";
    }
}
