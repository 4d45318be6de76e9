package dev.tuneloop.model.squad;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Field checks shared by the three SQuAD layouts; a problem becomes a {@link Rejected} with a reason. */
final class RecordFields {
    /** Longer answers are not searched for when answer_start is off: the search would be quadratic. */
    static final int MAX_SEARCHED_ANSWER_CHARS = 1000;

    private RecordFields() {}

    /** Why a record cannot be used; becomes a {@link BadRecord}. */
    static final class Rejected extends Exception {
        Rejected(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Gold answers: texts and code-point starts (-1 unknown), plus warnings about records kept anyway. */
    record Answers(List<String> texts, List<Integer> starts, List<String> warnings) {}

    static String requiredText(JsonNode obj, String field) throws Rejected {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            throw new Rejected("missing field '" + field + "'");
        }
        if (!v.isTextual()) {
            throw new Rejected("field '" + field + "' is " + describe(v) + ", expected a string");
        }
        return v.textValue();
    }

    /** A string field that may be absent or null (→ null). */
    static String optionalText(JsonNode obj, String field) throws Rejected {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new Rejected("field '" + field + "' is " + describe(v) + ", expected a string");
        }
        return v.textValue();
    }

    static String question(JsonNode obj) throws Rejected {
        String q = requiredText(obj, "question");
        if (isBlank(q)) {
            throw new Rejected("empty question");
        }
        return q;
    }

    /** The id: a string, or an integer taken as its decimal text; null when absent. */
    static String id(JsonNode obj) throws Rejected {
        JsonNode v = obj.get("id");
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual() && !v.textValue().isEmpty()) {
            return v.textValue();
        }
        if (v.isIntegralNumber()) {
            return v.bigIntegerValue().toString();
        }
        throw new Rejected("field 'id' is " + describe(v) + ", expected a non-empty string");
    }

    /**
     * {@code answers} as SQuAD writes it, {@code [{"text", "answer_start"}, ...]}, or as Hugging Face datasets
     * exports it, {@code {"text": [...], "answer_start": [...]}}.
     */
    static Answers answers(JsonNode obj, String context) throws Rejected {
        JsonNode v = obj.get("answers");
        if (v == null || v.isNull()) {
            throw new Rejected("missing field 'answers'");
        }
        Answers out = new Answers(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        if (v.isArray()) {
            for (int k = 0; k < v.size(); k++) {
                JsonNode a = v.get(k);
                if (!a.isObject()) {
                    throw new Rejected("answers[" + k + "] is " + describe(a) + ", expected an object");
                }
                JsonNode text = a.get("text");
                if (text == null || !text.isTextual()) {
                    throw new Rejected("answers[" + k + "].text is " + describe(text) + ", expected a string");
                }
                add(out, "answers[" + k + "]", text.textValue(), a.get("answer_start"), context);
            }
        } else if (v.isObject()) {
            JsonNode texts = v.get("text");
            JsonNode starts = v.get("answer_start");
            if (texts == null || !texts.isArray()) {
                throw new Rejected("answers.text is " + describe(texts) + ", expected an array of strings");
            }
            if (starts != null && !starts.isNull() && (!starts.isArray() || starts.size() != texts.size())) {
                throw new Rejected("answers.answer_start is " + describe(starts) + ", expected an array of "
                        + texts.size() + " integers like answers.text");
            }
            for (int k = 0; k < texts.size(); k++) {
                if (!texts.get(k).isTextual()) {
                    throw new Rejected("answers.text[" + k + "] is " + describe(texts.get(k)) + ", expected a string");
                }
                add(out, "answers.text[" + k + "]", texts.get(k).textValue(), starts == null ? null : starts.get(k),
                        context);
            }
        } else {
            throw new Rejected("field 'answers' is " + describe(v) + ", expected an array");
        }
        if (out.texts().isEmpty()) {
            throw new Rejected("no answers");
        }
        return out;
    }

    /** The flat layout's single {@code answer} string, without an offset. */
    static Answers singleAnswer(JsonNode obj) throws Rejected {
        Answers out = new Answers(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        add(out, "answer", requiredText(obj, "answer"), null, "");
        return out;
    }

    /** Empty or only Python whitespace (which includes NBSP, unlike {@link String#isBlank()}). */
    private static boolean isBlank(String s) {
        return PythonText.split(s).isEmpty();
    }

    private static void add(Answers out, String label, String text, JsonNode startNode, String context)
            throws Rejected {
        if (isBlank(text)) {
            throw new Rejected("empty answer: " + label + " is " + quote(text));
        }
        out.texts().add(text);
        if (startNode == null || startNode.isNull()
                || (startNode.isIntegralNumber() && startNode.canConvertToInt() && startNode.intValue() == -1)) {
            out.starts().add(-1);
            return;
        }
        if (!startNode.isIntegralNumber() || !startNode.canConvertToInt()) {
            throw new Rejected(label + ".answer_start is " + describe(startNode) + ", expected an integer");
        }
        int start = startNode.intValue();
        if (start >= 0 && start <= context.codePointCount(0, context.length())
                && context.startsWith(text, context.offsetByCodePoints(0, start))) {
            out.starts().add(start);
            return;
        }
        if (text.length() > MAX_SEARCHED_ANSWER_CHARS) {
            throw new Rejected("answer not at answer_start: " + label + " " + quote(text) + " (answer_start " + start
                    + "); an answer longer than " + MAX_SEARCHED_ANSWER_CHARS + " characters is not searched for"
                    + " elsewhere in the context");
        }
        int nearest = nearestOccurrence(context, text, start);
        if (nearest < 0) {
            throw new Rejected("answer not in context: " + label + " " + quote(text) + " (answer_start " + start
                    + ", context " + context.codePointCount(0, context.length()) + " code points)");
        }
        out.starts().add(nearest);
        out.warnings().add("answer_start mismatch: " + label + " " + quote(text) + " is not at " + start
                + "; found at " + nearest + " (used)");
    }

    /** The code-point offset of the occurrence of {@code text} closest to {@code start}, or -1. */
    private static int nearestOccurrence(String context, String text, int start) {
        int best = -1;
        int cp = 0;
        int counted = 0;
        for (int at = context.indexOf(text); at >= 0; at = context.indexOf(text, at + 1)) {
            cp += context.codePointCount(counted, at); // incremental: linear in the context, however many hits
            counted = at;
            if (best < 0 || Math.abs((long) cp - start) < Math.abs((long) best - start)) {
                best = cp;
            }
        }
        return best;
    }

    static String describe(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "missing";
        }
        if (v.isNull()) {
            return "null";
        }
        String type = v.getNodeType().name().toLowerCase(Locale.ROOT);
        String text = v.isContainerNode() ? "" : " " + abbreviate(v.toString());
        return (type.startsWith("a") || type.startsWith("o") ? "an " : "a ") + type + text;
    }

    /** Jackson's message without its location (given separately) and its "Source: REDACTED" noise. */
    static String jacksonMessage(JsonProcessingException e) {
        return e.getOriginalMessage().replace("Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` "
                + "disabled); ", "");
    }

    static String quote(String s) {
        return "\"" + abbreviate(s) + "\"";
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
