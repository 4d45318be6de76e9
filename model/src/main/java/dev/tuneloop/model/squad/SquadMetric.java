package dev.tuneloop.model.squad;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The official SQuAD v1.1 metric ({@code evaluate-v1.1.py}), reproduced to the last bit of the double: the same
 * normalisation with Python 3 string semantics ({@link PythonText}), the same floating-point operations in the same
 * order, the same averaging over every question of the dataset.
 */
public final class SquadMetric {
    /** Python's {@code string.punctuation}: ASCII only; Unicode punctuation such as « » – stays. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private SquadMetric() {}

    /** Totals in percent (0..100) over {@code n} questions, {@code missing} of which had no prediction. */
    public record Result(double exactMatch, double f1, int n, int missing) {
        /** The official script's output line: {@code json.dumps({'exact_match': ..., 'f1': ...})}. */
        public String toJson() {
            return "{\"exact_match\": " + PythonFloat.repr(exactMatch) + ", \"f1\": " + PythonFloat.repr(f1) + "}";
        }
    }

    /** normalize_answer: lower, drop ASCII punctuation, articles to ' ', collapse whitespace. */
    public static String normalize(String s) {
        return whiteSpaceFix(removeArticles(removePunctuation(PythonText.lower(s))));
    }

    public static double exactMatch(String prediction, String gold) {
        return normalize(prediction).equals(normalize(gold)) ? 1.0 : 0.0;
    }

    /** Token-overlap F1 with Counter semantics; 0 when no token is shared (also when both are empty). */
    public static double f1(String prediction, String gold) {
        List<String> predTokens = PythonText.split(normalize(prediction));
        List<String> goldTokens = PythonText.split(normalize(gold));
        Map<String, Integer> goldCounts = new HashMap<>();
        for (String t : goldTokens) {
            goldCounts.merge(t, 1, Integer::sum);
        }
        int numSame = 0;
        for (String t : predTokens) {
            Integer left = goldCounts.get(t);
            if (left != null && left > 0) {
                goldCounts.put(t, left - 1);
                numSame++;
            }
        }
        if (numSame == 0) {
            return 0.0;
        }
        double precision = 1.0 * numSame / predTokens.size();
        double recall = 1.0 * numSame / goldTokens.size();
        return (2 * precision * recall) / (precision + recall);
    }

    /** {@link #evaluate(List, Map, Consumer)} writing the official "Unanswered question" warnings to stderr. */
    public static Result evaluate(List<SquadExample> dataset, Map<String, String> predictions) {
        return evaluate(dataset, predictions, System.err::println);
    }

    /**
     * Scores every question of {@code dataset} in order; a question without a prediction scores 0 and is reported
     * to {@code warnings}. Predictions for ids not in the dataset are ignored, as in the official script.
     */
    public static Result evaluate(List<SquadExample> dataset, Map<String, String> predictions,
            Consumer<String> warnings) {
        if (dataset.isEmpty()) {
            throw new IllegalArgumentException("cannot evaluate on an empty dataset (0 questions)");
        }
        int exactMatch = 0;
        double f1 = 0;
        int missing = 0;
        for (SquadExample ex : dataset) {
            String prediction = predictions.get(ex.id());
            if (prediction == null) {
                missing++;
                warnings.accept("Unanswered question " + ex.id() + " will receive score 0.");
                continue;
            }
            double bestEm = 0;
            double bestF1 = 0;
            for (String gold : ex.answers()) {
                bestEm = Math.max(bestEm, exactMatch(prediction, gold));
                bestF1 = Math.max(bestF1, f1(prediction, gold));
            }
            exactMatch += (int) bestEm;
            f1 += bestF1;
        }
        int total = dataset.size();
        return new Result(100.0 * exactMatch / total, 100.0 * f1 / total, total, missing);
    }

    private static String removePunctuation(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (PUNCTUATION.indexOf(c) < 0) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * {@code re.sub(r'\b(a|an|the)\b', ' ', text)}: whole words "a", "an", "the" become one space each, where a
     * word boundary is judged on the original text with Python's word characters.
     */
    private static String removeArticles(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            int len = articleAt(s, i);
            if (len > 0) {
                out.append(' ');
                i += len;
            } else {
                out.append(s.charAt(i));
                i++;
            }
        }
        return out.toString();
    }

    /** Length of the article starting at {@code i} with a word boundary on both sides, else 0. */
    private static int articleAt(String s, int i) {
        char c = s.charAt(i);
        if (c != 'a' && c != 't') {
            return 0;
        }
        if (i > 0 && PythonText.isWordChar(s.codePointBefore(i))) {
            return 0;
        }
        for (String article : c == 'a' ? new String[] {"a", "an"} : new String[] {"the"}) {
            int end = i + article.length();
            if (s.startsWith(article, i) && (end == s.length() || !PythonText.isWordChar(s.codePointAt(end)))) {
                return article.length();
            }
        }
        return 0;
    }

    /** {@code ' '.join(text.split())} */
    private static String whiteSpaceFix(String s) {
        return String.join(" ", PythonText.split(s));
    }
}
