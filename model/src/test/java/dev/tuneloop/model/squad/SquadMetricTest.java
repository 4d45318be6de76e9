package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.Shared;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Expected values come from python3 3.11.7 running a re-implementation of the official evaluate-v1.1.py
 * (normalize_answer, f1_score, exact_match_score, evaluate as published), not from this code.
 */
class SquadMetricTest {
    @Test
    void normalizeFollowsTheOfficialRules() {
        // articles only as whole words: not inside "theatre", "another", "anthem", "then"
        assertEquals("theatre of another anthem", SquadMetric.normalize("The Theatre of another anthem"));
        assertEquals("anthem then", SquadMetric.normalize("anthem then a"));
        assertEquals("", SquadMetric.normalize("A an THE"));
        assertEquals("", SquadMetric.normalize("the"));
        assertEquals("", SquadMetric.normalize(""));
        // ASCII punctuation is deleted (not replaced by a space), before articles are looked for
        assertEquals("ab", SquadMetric.normalize("a-b"));
        assertEquals("dont", SquadMetric.normalize("don't"));
        assertEquals("usa", SquadMetric.normalize("U.S.A."));
        assertEquals("theend", SquadMetric.normalize("the_end"));
        // Unicode punctuation stays
        assertEquals("«le monde» – paper", SquadMetric.normalize("«Le Monde» – the paper"));
        // Python whitespace: NBSP, U+3000, U+001C, U+0085 separate words
        assertEquals("cat", SquadMetric.normalize("the\u00A0cat"));
        assertEquals("x y z w", SquadMetric.normalize("x\u3000y\u001Cz\u0085w"));
        // Python str.lower
        assertEquals("i\u0307stanbul", SquadMetric.normalize("\u0130stanbul"));
        assertEquals("\u03BF\u03B4\u03BF\u03C2 \u03B1\u03C3\u0384\u03B1", SquadMetric.normalize("ΟΔΟΣ ΑΣ΄Α"));
        // Python's \b: '²' is a word character; combining marks, U+203F, ZWJ and soft hyphen are not
        assertEquals("the² x", SquadMetric.normalize("the² x"));
        assertEquals("\u0301 x", SquadMetric.normalize("the\u0301 x"));
        assertEquals("\u203F \u203F", SquadMetric.normalize("\u203Fthe\u203F"));
        assertEquals("\u200D", SquadMetric.normalize("a\u200Dthe"));
        assertEquals("\u00AD", SquadMetric.normalize("an\u00ADthe"));
    }

    @Test
    void f1CountsTokensWithMultiplicity() {
        assertEquals(0.6666666666666666, SquadMetric.f1("the cat the cat", "cat"));
        assertEquals(0.6666666666666666, SquadMetric.f1("cat cat dog", "cat dog dog"));
        assertEquals(0.8571428571428571, SquadMetric.f1("New York City", "the city of new york"));
        // same operation order as Python: (2 * p * r) / (p + r) with p = 1.0, r = 0.6
        assertEquals(0.7499999999999999, SquadMetric.f1("a b c d", "b c d e f"));
        assertEquals(1.0, SquadMetric.f1("Paris", "paris!"));
    }

    @Test
    void emptyAnswersMatchExactlyButScoreNoF1() {
        assertEquals(1.0, SquadMetric.exactMatch("", ""));
        assertEquals(0.0, SquadMetric.f1("", ""));
        assertEquals(1.0, SquadMetric.exactMatch("the", "a"));
        assertEquals(0.0, SquadMetric.f1("the", "a"));
        assertEquals(0.0, SquadMetric.exactMatch("cat", "the cat sat"));
    }

    /**
     * 500 random strings over a tricky alphabet (articles, ASCII and Unicode punctuation, Python-only spaces, İ, Σ,
     * combining marks, ², ‿, ZWJ, soft hyphen, emoji, digits of other scripts), half of the golds a shuffle of the
     * prediction plus an extra word: normalize_answer / exact_match_score / repr(f1_score) printed by python3
     * 3.11.7 with random.seed(11). Code points outside Java 17's Unicode 13 are left out (see PythonText).
     */
    @Test
    void randomStringsScoreAsInPython() throws IOException {
        InputStream in = SquadMetricTest.class.getResourceAsStream("normalize-f1-random.jsonl");
        assertNotNull(in, "test resource normalize-f1-random.jsonl");
        int rows = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            ObjectMapper json = new ObjectMapper();
            for (String line; (line = r.readLine()) != null; rows++) {
                JsonNode row = json.readTree(line);
                String pred = row.get("pred").textValue();
                String gold = row.get("gold").textValue();
                String what = "pred " + row.get("pred") + ", gold " + row.get("gold");
                assertEquals(row.get("normalized_pred").textValue(), SquadMetric.normalize(pred), what);
                assertEquals(row.get("em").booleanValue() ? 1.0 : 0.0, SquadMetric.exactMatch(pred, gold), what);
                assertEquals(row.get("f1").textValue(), PythonFloat.repr(SquadMetric.f1(pred, gold)), what);
            }
        }
        assertEquals(500, rows);
    }

    @Test
    void evaluateTakesTheBestGoldAndAveragesOverAllQuestions() {
        List<SquadExample> dataset = List.of(
                example("q1", "Denver Broncos", "Broncos"),
                example("q2", "cat dog dog"),
                example("q3", "unanswered"));
        List<String> warnings = new ArrayList<>();
        SquadMetric.Result r = SquadMetric.evaluate(dataset,
                Map.of("q1", "the Broncos", "q2", "cat cat dog", "unknown-id", "ignored"), warnings::add);
        assertEquals(3, r.n());
        assertEquals(1, r.missing());
        assertEquals(List.of("Unanswered question q3 will receive score 0."), warnings);
        assertEquals(100.0 * 1 / 3, r.exactMatch(), 0.0);
        assertEquals(100.0 * (1.0 + 0.6666666666666666) / 3, r.f1(), 0.0);
    }

    /** The real dev set against numbers produced by python3 with the official logic (see the class comment). */
    @Test
    void devSetScoresEqualThePythonReference() throws Exception {
        SquadData dev = SquadReader.read(Shared.squad("dev-v1.1.json"), OnBadRecord.FAIL);
        assertEquals(10_570, dev.examples().size());
        List<String> warnings = new ArrayList<>();
        SquadMetric.Result r = SquadMetric.evaluate(dev.examples(), crossCheckPredictions(dev.examples()),
                warnings::add);
        // python3 eval_v11.py dev-v1.1.json preds.json, preds.json built by the same rule in Python:
        // {"exact_match": 56.82119205298013, "f1": 61.15047296680872}, 3523 "Unanswered question" lines
        assertEquals(56.82119205298013, r.exactMatch(), 1e-9);
        assertEquals(61.15047296680872, r.f1(), 1e-9);
        assertEquals(10_570, r.n());
        assertEquals(3523, r.missing());
        assertEquals(3523, warnings.size());
        assertEquals("{\"exact_match\": 56.82119205298013, \"f1\": 61.15047296680872}", r.toJson());
    }

    /**
     * Question i in file order: i % 3 == 0 → the first gold answer; i % 3 == 1 → the last gold answer perturbed by
     * variant (i / 3) % 3: 0 drop the first ' '-separated word, 1 prefix "the ", 2 wrap as '"' + g + '"!';
     * i % 3 == 2 → no prediction.
     */
    static Map<String, String> crossCheckPredictions(List<SquadExample> dataset) {
        Map<String, String> predictions = new HashMap<>();
        for (int i = 0; i < dataset.size(); i++) {
            SquadExample ex = dataset.get(i);
            if (i % 3 == 0) {
                predictions.put(ex.id(), ex.answers().get(0));
            } else if (i % 3 == 1) {
                String g = ex.answers().get(ex.answers().size() - 1);
                int space = g.indexOf(' ');
                predictions.put(ex.id(), switch ((i / 3) % 3) {
                    case 0 -> space < 0 ? "" : g.substring(space + 1);
                    case 1 -> "the " + g;
                    default -> "\"" + g + "\"!";
                });
            }
        }
        return predictions;
    }

    private static SquadExample example(String id, String... golds) {
        List<Integer> starts = new ArrayList<>();
        for (String ignored : golds) {
            starts.add(-1);
        }
        return new SquadExample(id, null, "", "question?", List.of(golds), starts);
    }
}
