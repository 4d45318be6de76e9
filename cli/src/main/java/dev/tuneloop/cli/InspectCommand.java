package dev.tuneloop.cli;

import ai.djl.Device;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraConfig;
import dev.tuneloop.model.lora.LoraLinear;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.qwen2.Qwen2Weights;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.text.EncodedExample;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.QwenTokenizer;
import dev.tuneloop.model.train.ServingPrompt;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code tuneloop inspect}: what a model (and an adapter, or a LoRA configuration not trained yet) looks like — the
 * module tree with shapes, where LoRA sits, PEFT's trainable-parameter line — and, with {@code --data}, the first
 * example exactly as training feeds it: the ChatML prompt, the token ids and the labelled positions.
 */
final class InspectCommand {
    static final String USAGE = "inspect --model DIR [--adapter DIR | --lora-r R [--lora-alpha A (default 16)]"
            + " [--target-modules q_proj,... (default all seven)]] [--data DATA [--max-seq-len N]"
            + " [--prompt context|question-only]]";

    private InspectCommand() {}

    static int run(String[] argv) throws Exception {
        Args args = new Args("inspect", argv, Set.of());
        String model = args.string("model");
        String adapter = args.has("adapter") ? args.string("adapter") : null;
        boolean fresh = args.has("lora-r") || args.has("lora-alpha") || args.has("target-modules");
        int r = args.integer("lora-r", 8);
        double alpha = args.number("lora-alpha", 16); // train's defaults: r 8, alpha 16
        List<String> modules = args.list("target-modules", LoraConfig.ALL_MODULES);
        String data = args.has("data") ? args.string("data") : null;
        PromptOptions promptOptions = PromptOptions.read(args);
        args.finish();
        if (!args.positional().isEmpty()) {
            throw usage("unexpected argument '" + args.positional().get(0) + "'");
        }
        if (adapter != null && fresh) {
            throw usage("--adapter and --lora-r/--lora-alpha/--target-modules exclude each other: inspect an adapter"
                    + " folder, or a LoRA configuration to train");
        }
        if (data == null && (promptOptions.mode() != null || promptOptions.maxSeqLen() != null)) {
            throw usage("--prompt and --max-seq-len shape the example shown with --data; give --data too");
        }
        LoraConfig freshConfig = null;
        if (fresh) {
            try {
                freshConfig = LoraConfig.of(r, alpha, 0, modules);
            } catch (IllegalArgumentException e) {
                throw usage("LoRA options: " + e.getMessage());
            }
        }

        Path modelDir = ModelPaths.resolveModel(model);
        Path adapterDir = adapter == null ? null : ModelPaths.resolveAdapter(adapter);
        ServingPrompt prompt = null;
        if (adapterDir != null || data != null) {
            prompt = promptOptions.apply(ServingPrompt.forAdapter(adapterDir));
        }
        // the example first: a missing tokenizer or data file fails before the model is loaded
        Example example = data == null ? null : firstExample(modelDir, data, prompt);
        try (Qwen2ForCausalLM lm = Qwen2Weights.load(modelDir, ModelPaths.device())) {
            LoraConfig lora = null;
            String loraSummary = "LoRA: none (see an adapter with --adapter DIR, or a configuration with --lora-r R)";
            if (adapterDir != null) {
                lora = LoraAdapter.load(lm, adapterDir, false);
                loraSummary = "LoRA: adapter " + adapterDir;
            } else if (freshConfig != null) {
                lora = freshConfig;
                LoraAdapter.initialize(lm, lora, 0);
                loraSummary = "LoRA: new (not trained)";
            }
            System.out.println("model: " + modelDir);
            ModuleTree.lines(lm, lora).forEach(System.out::println);
            if (lora != null) {
                long carrying = lm.projections().values().stream().filter(LoraLinear::hasLora).count();
                loraSummary += String.format(Locale.ROOT, ", r=%d, alpha=%s, scaling=%s%s on %d of %d projections"
                        + " (target_modules %s)", lora.r(), ModuleTree.num(lora.loraAlpha()),
                        ModuleTree.num(lora.useRslora() ? lora.loraAlpha() / Math.sqrt(lora.r())
                                : lora.loraAlpha() / lora.r()),
                        adapterDir != null ? ", dropout=" + ModuleTree.num(lora.loraDropout()) : "", carrying,
                        lm.projections().size(),
                        lora.targetRegex() != null ? lora.targetRegex() : lora.targetModules());
                if (!lora.rankPattern().isEmpty() || !lora.alphaPattern().isEmpty()) {
                    loraSummary += "; rank_pattern " + lora.rankPattern() + ", alpha_pattern " + lora.alphaPattern()
                            + " (per-module values above)";
                }
            }
            System.out.println(loraSummary);
            System.out.println(LoraAdapter.parameterLine(lm));
            if (adapterDir != null && example == null) { // the example shows it otherwise
                System.out.println("serving prompt: " + prompt.describe());
            }
            if (example != null) {
                System.out.println();
                example.lines().forEach(System.out::println);
                int vocab = lm.config().vocabSize();
                long outside = Arrays.stream(example.ids()).filter(id -> id >= vocab).count();
                if (outside > 0) {
                    System.err.println("inspect: warning: " + outside + " token ids of the example are outside the"
                            + " model's vocabulary [0, " + vocab + "): the tokenizer does not fit the model");
                }
            }
        }
        return 0;
    }

    private record Example(List<String> lines, long[] ids) {}

    private static Example firstExample(Path modelDir, String data, ServingPrompt prompt) throws Exception {
        List<SquadExample> examples = DataFiles.read(data, OnBadRecord.SKIP).examples();
        if (examples.isEmpty()) {
            throw new IllegalArgumentException(data + ": no valid example to show");
        }
        SquadExample e = examples.get(0);
        List<String> out = new ArrayList<>();
        try (QwenTokenizer tokenizer = QwenTokenizer.load(modelDir)) {
            ExampleEncoder encoder = new ExampleEncoder(tokenizer, prompt.template(), prompt.maxSeqLen());
            EncodedExample enc = encoder.encode(e.question(), e.context(), e.answers().get(0));
            long[] ids = enc.inputIds();
            long[] labels = enc.labels();
            out.add("first example of " + data + ": id " + e.id() + ", answer " + quote(e.answers().get(0)));
            out.add(prompt.describe());
            out.add(String.format(Locale.ROOT, "%d tokens: %d prompt + %d labelled (answer and <|im_end|>); context %s",
                    ids.length, enc.promptLength(), enc.targetLength(),
                    enc.contextTruncated() ? "TRUNCATED to fit max_seq_len " + prompt.maxSeqLen() : "complete"));
            out.add("--- prompt as the model sees it (ChatML) ---");
            out.addAll(tokenizer.decode(Arrays.copyOf(ids, enc.promptLength())).lines().toList());
            out.add("--- target ---");
            out.add(tokenizer.decode(Arrays.copyOfRange(ids, enc.promptLength(), ids.length)));
            out.add("--- input_ids ---");
            out.add(Arrays.stream(ids).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]")));
            out.add("--- positions (label · = -100, outside the loss; the loss predicts position i's label from the"
                    + " positions before it) ---");
            out.add(String.format("%5s  %7s  %-24s %s", "pos", "id", "token", "label"));
            for (int i = 0; i < ids.length; i++) {
                out.add(String.format("%5d  %7d  %-24s %s", i, ids[i], quote(tokenizer.decode(new long[] {ids[i]})),
                        labels[i] == EncodedExample.IGNORE ? "·" : Long.toString(labels[i])));
            }
            return new Example(out, ids);
        }
    }

    /** A token's text in quotes, control characters escaped so that every token stays on its row. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        out.append(String.format("\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static Args.UsageException usage(String message) {
        return new Args.UsageException("inspect: " + message + " (usage: " + USAGE + ")");
    }
}
