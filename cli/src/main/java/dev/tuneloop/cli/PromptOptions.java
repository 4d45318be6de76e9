package dev.tuneloop.cli;

import dev.tuneloop.model.text.PromptMode;
import dev.tuneloop.model.train.ServingPrompt;

/**
 * The {@code --prompt {context,question-only}} and {@code --max-seq-len N} options of the verbs that build prompts.
 * They override what {@link ServingPrompt} chose (the adapter's own, or the defaults), with a note on stderr: an
 * adapter answers best with the prompt it was trained on.
 */
record PromptOptions(String verb, PromptMode mode, Integer maxSeqLen) {

    static PromptOptions read(Args args) {
        PromptMode mode = null;
        if (args.has("prompt")) {
            try {
                mode = PromptMode.fromJsonName(args.string("prompt"));
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException(args.verb() + ": --prompt: " + e.getMessage());
            }
        }
        Integer maxSeqLen = args.has("max-seq-len") ? args.integer("max-seq-len", 0) : null;
        return new PromptOptions(args.verb(), mode, maxSeqLen);
    }

    ServingPrompt apply(ServingPrompt served) {
        ServingPrompt out = served;
        if (mode != null) {
            out = out.withMode(mode);
            System.err.println(verb + ": note: --prompt " + mode.jsonName() + (mode == served.mode()
                    ? " is the mode of " + served.source() + "; its template is kept"
                    : " replaces the " + served.mode().jsonName() + " template of " + served.source()
                            + " by the default " + mode.jsonName() + " template"));
        }
        if (maxSeqLen != null) {
            try {
                out = out.withMaxSeqLen(maxSeqLen);
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException(verb + ": --max-seq-len: " + e.getMessage());
            }
            if (maxSeqLen != served.maxSeqLen()) {
                System.err.println(verb + ": note: --max-seq-len " + maxSeqLen + " replaces max_seq_len "
                        + served.maxSeqLen() + " of " + served.source());
            }
        }
        return out;
    }
}
