package dev.tuneloop.model.generate;

import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.text.ExampleEncoder;
import dev.tuneloop.model.text.QwenTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Answers questions with the training prompt (same {@link ExampleEncoder}, so the same template and truncation):
 * greedy, batched, stopping at the chat turn's end. Prompts are sorted by length so a batch holds similar lengths.
 */
public final class QaAnswerer {
    private final Generator generator;
    private final QwenTokenizer tokenizer;
    private final ExampleEncoder encoder;
    private final int maxNewTokens;

    public QaAnswerer(Qwen2ForCausalLM lm, QwenTokenizer tokenizer, ExampleEncoder encoder, List<Long> eosIds,
            int maxNewTokens) {
        List<Long> stop = new ArrayList<>(eosIds);
        long imEnd = tokenizer.tokenId("<|im_end|>");
        if (!stop.contains(imEnd)) {
            stop.add(imEnd);
        }
        this.generator = new Generator(lm, stop);
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.maxNewTokens = maxNewTokens;
    }

    public record Question(String question, String context) {}

    public record Answer(String text, int promptTokens, int completionTokens) {}

    public Answer answer(String question, String context) {
        return answer(List.of(new Question(question, context)), 1).get(0);
    }

    /** Answers in input order; {@code batchSize} questions share one forward pass per generated token. */
    public List<Answer> answer(List<Question> questions, int batchSize) {
        long[][] prompts = new long[questions.size()][];
        for (int i = 0; i < prompts.length; i++) {
            Question q = questions.get(i);
            prompts[i] = encoder.encodePrompt(q.question(), q.context(), maxNewTokens);
        }
        Integer[] order = new Integer[prompts.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> prompts[i].length));
        Answer[] answers = new Answer[prompts.length];
        for (int start = 0; start < order.length; start += batchSize) {
            List<long[]> batch = new ArrayList<>();
            int end = Math.min(order.length, start + batchSize);
            for (int k = start; k < end; k++) {
                batch.add(prompts[order[k]]);
            }
            List<long[]> generated = generator.greedy(batch, maxNewTokens, false);
            for (int k = start; k < end; k++) {
                long[] ids = generated.get(k - start);
                answers[order[k]] = new Answer(tokenizer.decodeSkippingSpecial(ids).strip(), prompts[order[k]].length,
                        ids.length);
            }
        }
        return Arrays.asList(answers);
    }

    public ExampleEncoder encoder() {
        return encoder;
    }
}
