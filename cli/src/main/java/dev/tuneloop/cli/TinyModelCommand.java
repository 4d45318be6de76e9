package dev.tuneloop.cli;

import dev.tuneloop.model.qwen2.TinyModel;
import java.nio.file.Path;
import java.util.Set;

/** {@code tuneloop tiny-model --out DIR}: a tiny random Qwen2 with the real Qwen2.5 tokenizer, for trying pipelines. */
final class TinyModelCommand {
    private TinyModelCommand() {}

    static int run(String[] argv) throws Exception {
        Args args = new Args("tiny-model", argv, Set.of());
        Path out = args.path("out");
        Path tokenizer = args.path("tokenizer", Path.of("..", "shared", "models", "qwen2.5-0.5b-instruct"));
        int hidden = args.integer("hidden", 128);
        int layers = args.integer("layers", 2);
        long seed = args.longValue("seed", 1);
        args.finish();
        TinyModel.create(out, tokenizer, hidden, layers, seed);
        System.err.println("tiny-model: a RANDOM tiny Qwen2 (hidden " + hidden + ", " + layers + " layers) with the"
                + " real Qwen2.5 tokenizer; its answers are noise until trained");
        System.out.println(out.toAbsolutePath());
        return 0;
    }
}
