package dev.tuneloop.model.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a SQuAD (question, context, answer) into token ids for causal-LM fine-tuning, and a (question, context) into
 * the prompt for generation. The prompt is {@link ChatTemplate ChatML}: system message, user message from the
 * {@link PromptTemplate}, and the assistant generation prompt ({@code <|im_start|>assistant\n}). A training
 * sequence continues with the answer tokens and {@code <|im_end|>} (151645, the end of the chat turn, which is what
 * generation stops on).
 *
 * <p>The prompt is tokenized as one string, exactly as Hugging Face tokenizes {@code apply_chat_template}'s output:
 * splicing separately tokenized pieces would differ where the passage ends, because byte-level BPE merges across
 * the boundary (a passage ending in "." before "\n\nQuestion" gives the single token ".\n\n", 382, not "." + "\n\n").
 * The answer is tokenized on its own, after the prompt, which is how the model sees its own output at generation.
 *
 * <p>When the sequence exceeds {@code maxSeqLen}, only the context is shortened: its tokens are cut, decoded back to
 * text (never inside a UTF-8 character) and the prompt is rendered and tokenized again, taking the longest cut
 * that fits. Question, answer and ChatML markers stay intact; the answer may then be missing from the shortened
 * context ({@link EncodedExample#contextTruncated()} reports it). {@link #encodePrompt} cuts the same way, so for
 * any example that was not truncated it returns exactly the prefix the model was trained on.
 *
 * <p>Thread-safe if the tokenizer is (it is, see {@link QwenTokenizer}).
 */
public final class ExampleEncoder {

    private final QwenTokenizer tokenizer;
    private final PromptTemplate template;
    private final int maxSeqLen;
    private final long imEndId;

    public ExampleEncoder(QwenTokenizer tokenizer, PromptTemplate template, int maxSeqLen) {
        if (tokenizer == null || template == null) {
            throw new IllegalArgumentException("tokenizer and prompt template must not be null");
        }
        if (maxSeqLen < 2) {
            throw new IllegalArgumentException("max_seq_len must be at least 2, got " + maxSeqLen);
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.maxSeqLen = maxSeqLen;
        this.imEndId = tokenizer.tokenId(ChatTemplate.IM_END);
        rejectSpecialTokens(PromptTemplate.KEY_SYSTEM_PROMPT, template.systemPrompt());
        rejectSpecialTokens(PromptTemplate.KEY_USER_TEMPLATE, template.userTemplate());
    }

    /**
     * @throws SequenceTooLongException if question, answer and the fixed prompt alone exceed {@code maxSeqLen}
     */
    public EncodedExample encode(String question, String context, String answer) {
        checkInputs(question, context);
        if (answer == null || answer.isBlank()) {
            throw new IllegalArgumentException("answer must not be blank, got " + quote(answer)
                    + " for question " + quote(question));
        }
        rejectSpecialTokens("answer", answer);
        long[] answerIds = tokenizer.encode(answer);
        int targetLength = answerIds.length + 1;
        Prompt prompt = fitPrompt(question, context, maxSeqLen - targetLength,
                " + answer " + answerIds.length + " + <|im_end|> 1");

        int promptLength = prompt.ids.length;
        long[] inputIds = Arrays.copyOf(prompt.ids, promptLength + targetLength);
        System.arraycopy(answerIds, 0, inputIds, promptLength, answerIds.length);
        inputIds[inputIds.length - 1] = imEndId;
        long[] labels = new long[inputIds.length];
        Arrays.fill(labels, 0, promptLength, EncodedExample.IGNORE);
        System.arraycopy(inputIds, promptLength, labels, promptLength, targetLength);
        return new EncodedExample(inputIds, labels, promptLength, prompt.contextTruncated);
    }

    /** The generation prompt, its context shortened if needed so that the prompt fits {@code maxSeqLen}. */
    public long[] encodePrompt(String question, String context) {
        return encodePrompt(question, context, 0);
    }

    /** As {@link #encodePrompt(String, String)}, leaving {@code reservedTokens} of {@code maxSeqLen} for the answer. */
    public long[] encodePrompt(String question, String context, int reservedTokens) {
        if (reservedTokens < 0 || reservedTokens >= maxSeqLen) {
            throw new IllegalArgumentException("reserved tokens must be in [0, max_seq_len " + maxSeqLen + "), got "
                    + reservedTokens);
        }
        checkInputs(question, context);
        String reserved = reservedTokens == 0 ? "" : " + reserved for generation " + reservedTokens;
        return fitPrompt(question, context, maxSeqLen - reservedTokens, reserved).ids;
    }

    public PromptTemplate template() {
        return template;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    private record Prompt(long[] ids, boolean contextTruncated) {}

    /** The prompt in at most {@code budget} tokens; {@code rest} describes the tokens after it, for the error. */
    private Prompt fitPrompt(String question, String context, int budget, String rest) {
        long[] full = promptIds(question, context);
        if (full.length <= budget) {
            return new Prompt(full, false);
        }
        boolean canCut = template.mode() == PromptMode.CONTEXT && !context.isEmpty();
        long[] shortest = canCut ? promptIds(question, "") : full;
        if (shortest.length > budget) {
            int needed = shortest.length + (maxSeqLen - budget);
            throw new SequenceTooLongException("example needs " + needed + " tokens (prompt " + shortest.length
                    + (canCut ? " with the context cut to nothing" : "") + rest + ") but max_seq_len is " + maxSeqLen
                    + "; question " + quote(question), needed, maxSeqLen);
        }

        long[] contextIds = tokenizer.encode(context);
        // First guess: drop as many context tokens as the prompt is over budget; step down until it fits.
        int keep = Math.max(0, Math.min(contextIds.length - 1, contextIds.length - (full.length - budget)));
        long[] fitting;
        while (true) {
            String cut = cutContext(contextIds, keep);
            if (cut == null) {
                keep--;
                continue;
            }
            long[] ids = promptIds(question, cut);
            if (ids.length <= budget) {
                fitting = ids;
                break;
            }
            keep = Math.max(0, keep - Math.max(1, ids.length - budget));
        }
        // Then take the longest cut that still fits (re-tokenizing can merge at the cut, so the guess may be short).
        for (int next = keep + 1; next < contextIds.length; next++) {
            String cut = cutContext(contextIds, next);
            if (cut == null) {
                continue;
            }
            long[] ids = promptIds(question, cut);
            if (ids.length > budget) {
                break;
            }
            fitting = ids;
        }
        return new Prompt(fitting, true);
    }

    /** The text of the first {@code keep} context tokens, or null if that ends inside a UTF-8 character. */
    private String cutContext(long[] contextIds, int keep) {
        if (keep == 0) {
            return "";
        }
        String text = tokenizer.decode(Arrays.copyOf(contextIds, keep));
        return text.endsWith("\uFFFD") ? null : text;
    }

    private long[] promptIds(String question, String context) {
        return tokenizer.encode(ChatTemplate.render(template.messages(question, context), true));
    }

    private void checkInputs(String question, String context) {
        if (question == null) {
            throw new IllegalArgumentException("question must not be null");
        }
        rejectSpecialTokens("question", question);
        if (template.mode() == PromptMode.CONTEXT) {
            if (context == null) {
                throw new IllegalArgumentException("context must not be null in prompt mode context; question "
                        + quote(question));
            }
            rejectSpecialTokens("context", context);
        }
    }

    /** Text holding e.g. "<|im_end|>" would be encoded as that control token and break the ChatML structure. */
    private void rejectSpecialTokens(String field, String text) {
        List<String> found = new ArrayList<>();
        for (String special : tokenizer.specialTokens()) {
            if (text.contains(special)) {
                found.add(special);
            }
        }
        if (!found.isEmpty()) {
            throw new IllegalArgumentException(field + " contains the special token(s) " + found + " at char "
                    + text.indexOf(found.get(0)) + ", which would break the chat structure: " + quote(text));
        }
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        String shown = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return "\"" + shown.replace("\n", "\\n") + "\"";
    }
}
