package dev.tuneloop.cli;

import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.generate.QaModel;
import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.train.ServingPrompt;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code tuneloop answer}: one question (with its passage) answered by the base model or an adapter, with the prompt
 * the adapter was trained on. The last stdout line is the answer text alone (line breaks in it joined by spaces);
 * prompt and token counts go to stderr.
 */
final class AnswerCommand {
    static final String USAGE = "answer --model DIR [--adapter DIR] --question Q [--context C] [--max-new-tokens 32]"
            + " [--max-seq-len N] [--prompt context|question-only]";

    private AnswerCommand() {}

    static int run(String[] argv) throws Exception {
        Args args = new Args("answer", argv, Set.of());
        String model = args.string("model");
        String adapter = args.has("adapter") ? args.string("adapter") : null;
        String question = args.string("question");
        String context = args.has("context") ? args.string("context") : null;
        int maxNewTokens = args.integer("max-new-tokens", 32);
        PromptOptions promptOptions = PromptOptions.read(args);
        args.finish();
        if (!args.positional().isEmpty()) {
            throw usage("unexpected argument '" + args.positional().get(0) + "'");
        }
        if (question.isBlank()) {
            throw usage("--question is empty");
        }
        if (maxNewTokens < 1 || maxNewTokens > 1024) {
            throw usage("--max-new-tokens must be in [1, 1024], got " + maxNewTokens);
        }

        Path modelDir = ModelPaths.resolveModel(model);
        Path adapterDir = adapter == null ? null : ModelPaths.resolveAdapter(adapter);
        ServingPrompt prompt = promptOptions.apply(ServingPrompt.forAdapter(adapterDir));
        if (maxNewTokens >= prompt.maxSeqLen()) {
            throw usage("--max-new-tokens " + maxNewTokens + " leaves no room for the prompt in max_seq_len "
                    + prompt.maxSeqLen());
        }
        if (prompt.mode() == PromptMode.CONTEXT && context == null) {
            System.err.println("answer: warning: the prompt template shows a passage but no --context was given;"
                    + " answering with an empty context");
            context = "";
        } else if (prompt.mode() == PromptMode.QUESTION_ONLY && context != null) {
            System.err.println("answer: warning: the prompt template is question-only; --context is not shown to the"
                    + " model");
        }
        System.err.println("answer: " + (adapterDir == null ? "base model " + modelDir : "adapter " + adapterDir
                + " on " + modelDir) + "; " + prompt.describe());

        try (QaModel qa = QaModel.open(modelDir, ModelPaths.device())) {
            qa.useAdapter(adapterDir);
            QaAnswerer answerer = qa.answerer(prompt.template(), prompt.maxSeqLen(), maxNewTokens);
            long start = System.nanoTime();
            QaAnswerer.Answer a = answerer.answer(question, context);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.err.printf("answer: %d prompt tokens, %d new tokens in %.2f s%n", a.promptTokens(),
                    a.completionTokens(), seconds);
            String text = a.text();
            if (text.contains("\n") || text.contains("\r")) {
                System.err.println("answer: the answer spans several lines; printed with them joined by spaces");
                text = String.join(" ", text.lines().map(String::strip).toList());
            }
            System.out.println(text);
        }
        return 0;
    }

    private static Args.UsageException usage(String message) {
        return new Args.UsageException("answer: " + message + " (usage: " + USAGE + ")");
    }
}
