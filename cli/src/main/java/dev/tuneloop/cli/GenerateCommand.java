package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.generate.GenerationConfig;
import dev.tuneloop.model.generate.Generator;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.qwen2.Qwen2Config;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.text.QwenTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tuneloop generate}: greedy continuation of exactly the given token ids (or of raw text, tokenized without a
 * chat template). The last stdout line is a JSON array of the new ids, including the EOS id that stopped generation;
 * the decoded text (when the model folder has a tokenizer) comes before it, logs go to stderr.
 */
final class GenerateCommand {
    private static final Logger LOG = LoggerFactory.getLogger(GenerateCommand.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String USAGE = "generate --model DIR [--adapter DIR] (--ids 1,2,3 | --prompt TEXT)"
            + " [--max-new-tokens N (default 32)]";

    private GenerateCommand() {}

    public static int run(String[] argv) throws Exception {
        Args args = new Args("generate", argv, Set.of());
        Path modelDir = ModelPaths.resolveModel(args.string("model"));
        Path adapterDir = args.has("adapter") ? ModelPaths.resolveAdapter(args.string("adapter")) : null;
        boolean hasIds = args.has("ids");
        boolean hasPrompt = args.has("prompt");
        String idsText = hasIds ? args.string("ids") : null;
        String prompt = hasPrompt ? args.string("prompt") : null;
        int maxNewTokens = args.integer("max-new-tokens", 32);
        args.finish();
        if (hasIds == hasPrompt) {
            throw new Args.UsageException("generate: give exactly one of --ids and --prompt (usage: " + USAGE + ")");
        }
        if (!args.positional().isEmpty()) {
            throw new Args.UsageException("generate: unexpected argument '" + args.positional().get(0) + "' (usage: "
                    + USAGE + ")");
        }
        if (maxNewTokens < 1) {
            throw new Args.UsageException("generate: --max-new-tokens must be at least 1, got " + maxNewTokens);
        }

        try (QwenTokenizer tokenizer = tokenizer(modelDir)) {
            long[] ids;
            if (hasIds) {
                ids = parseIds(idsText);
            } else {
                if (tokenizer == null) {
                    throw new IllegalArgumentException("--prompt needs " + modelDir.resolve("tokenizer.json")
                            + ", which the model folder lacks; pass token ids with --ids instead");
                }
                ids = tokenizer.encode(prompt);
                if (ids.length == 0) {
                    throw new IllegalArgumentException("--prompt '" + prompt + "' encodes to no tokens");
                }
            }
            try (Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, ModelPaths.device())) {
                Qwen2Config config = lm.config();
                List<Long> eos = GenerationConfig.eosIds(modelDir, config);
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                        throw new IllegalArgumentException("prompt token id " + ids[i] + " at position " + i
                                + " is outside the model's vocabulary [0, " + config.vocabSize() + ")");
                    }
                }
                if (ids.length > config.maxPositionEmbeddings()) {
                    throw new IllegalArgumentException("the prompt has " + ids.length + " tokens, more than the model's"
                            + " max_position_embeddings " + config.maxPositionEmbeddings() + " ("
                            + modelDir.resolve("config.json") + ")");
                }
                if (ids.length + maxNewTokens > config.maxPositionEmbeddings()) { // like transformers: a warning
                    LOG.warn("prompt ({} tokens) + {} new tokens exceed max_position_embeddings {}", ids.length,
                            maxNewTokens, config.maxPositionEmbeddings());
                }
                if (adapterDir != null) {
                    LoraAdapter.load(lm, adapterDir, false);
                }
                LOG.info("generating up to {} tokens after a {}-token prompt, stopping at EOS {}", maxNewTokens,
                        ids.length, eos);
                long start = System.nanoTime();
                long[] generated = new Generator(lm, eos).greedy(ids, maxNewTokens);
                double seconds = (System.nanoTime() - start) / 1e9;
                LOG.info("{} new tokens in {} s ({} tokens/s){}", generated.length, String.format("%.2f", seconds),
                        String.format("%.1f", generated.length / seconds),
                        generated.length > 0 && eos.contains(generated[generated.length - 1]) ? ", stopped at EOS" : "");
                if (tokenizer != null) {
                    System.out.println(tokenizer.decode(generated));
                }
                System.out.println(JSON.writeValueAsString(generated));
            }
        }
        return 0;
    }

    static long[] parseIds(String text) {
        List<Long> ids = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            try {
                ids.add(Long.parseLong(part.trim()));
            } catch (NumberFormatException e) {
                throw new Args.UsageException("generate: --ids must be comma-separated integers, got '" + part.trim()
                        + "' in '" + text + "'");
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** The folder's tokenizer.json, or null if it has none. */
    private static QwenTokenizer tokenizer(Path modelDir) throws IOException {
        return Files.isRegularFile(modelDir.resolve("tokenizer.json")) ? QwenTokenizer.load(modelDir) : null;
    }
}
