package dev.tuneloop.model.squad;

import java.util.List;
import java.util.Objects;

/**
 * One SQuAD question with its gold answers.
 *
 * @param id           the dataset's id, or {@code "<file-stem>-<line or index>"} when the source has none
 * @param title        the article title, or null
 * @param context      the passage ("" for question-only data)
 * @param answers      the gold answer texts, at least one, none blank
 * @param answerStarts per answer, its offset in {@code context} in code points (Python string indices, as in the
 *                     SQuAD files), or -1 when the source gives none
 */
public record SquadExample(String id, String title, String context, String question, List<String> answers,
        List<Integer> answerStarts) {
    public SquadExample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(question, "question");
        answers = List.copyOf(answers);
        answerStarts = List.copyOf(answerStarts);
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("question " + id + " has no gold answer");
        }
        if (answers.size() != answerStarts.size()) {
            throw new IllegalArgumentException("question " + id + ": " + answers.size() + " answers but "
                    + answerStarts.size() + " answer starts");
        }
    }
}
