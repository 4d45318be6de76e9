package dev.tuneloop.model.squad;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.squad.RecordFields.Answers;
import dev.tuneloop.model.squad.RecordFields.Rejected;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads SQuAD questions from any of the three layouts in use, recognised by content (never by file name):
 * <ul>
 *   <li>the official SQuAD v1.1 JSON {@code {"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
 *       "question", "answers": [{"text", "answer_start"}]}]}]}], "version"}};
 *   <li>JSON Lines, one {@code {"id"?, "title"?, "context", "question", "answers"}} per line;
 *   <li>a flat JSON array of {@code {"id"?, "context", "question", "answer", ...}} (the multifactor_squad1.1
 *       family; {@code p_phrase}, {@code n_phrase}, {@code "full answer"} are ignored).
 * </ul>
 * Unknown fields are ignored. Files are streamed (one article, line or array element in memory at a time) and
 * decoded as strict UTF-8. Bad records are reported, never dropped silently: see {@link OnBadRecord}.
 */
public final class SquadReader {
    /** The longest JSON Lines line accepted, in chars; longer fails rather than exhausting memory. */
    public static final int MAX_LINE_CHARS = 10 * 1024 * 1024;
    /**
     * The largest dataset accepted, in bytes (1 GiB; the official SQuAD v1.1 train set is 30 MB): every question is
     * held in memory, so a larger file fails up front, naming this limit, rather than exhausting the heap.
     */
    public static final long MAX_FILE_BYTES = 1L << 30;
    /** How far format detection may look ahead (chars). */
    private static final int DETECT_LIMIT = 1 << 20;
    /** Streaming: one article or array element at a time, the caller's stream left open. */
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);

    private final String source;
    private final String stem;
    private final OnBadRecord policy;
    private String format;
    private final List<SquadExample> examples = new ArrayList<>();
    private final List<BadRecord> bad = new ArrayList<>();
    private final List<BadRecord> warnings = new ArrayList<>();
    private final Map<String, Long> firstSeen = new HashMap<>();

    private SquadReader(String source, OnBadRecord policy) {
        this.source = source;
        this.policy = policy;
        String name = source.substring(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1);
        int dot = name.lastIndexOf('.');
        this.stem = dot > 0 ? name.substring(0, dot) : name;
    }

    public static SquadData read(Path file, OnBadRecord policy) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString(), policy);
        }
    }

    /**
     * Reads {@code in} to the end (without closing it); {@code source} names it in messages and its file stem
     * prefixes synthesized ids.
     */
    public static SquadData read(InputStream in, String source, OnBadRecord policy) throws IOException {
        return read(in, source, policy, MAX_FILE_BYTES);
    }

    /** As {@link #read(InputStream, String, OnBadRecord)} with another size limit (tests). */
    static SquadData read(InputStream in, String source, OnBadRecord policy, long maxBytes) throws IOException {
        SquadReader reader = new SquadReader(source, policy);
        BufferedReader text = new BufferedReader(new StrictUtf8Reader(in, source, maxBytes), 1 << 16);
        reader.format = reader.detect(text);
        switch (reader.format) {
            case SquadData.SQUAD_JSON -> reader.readSquadJson(text);
            case SquadData.FLAT_ARRAY -> reader.readFlatArray(text);
            default -> new JsonLines(reader).read(text);
        }
        if (reader.examples.isEmpty()) {
            throw new SquadDataException(source + ": no valid SQuAD questions (" + reader.format + ", "
                    + reader.bad.size() + " bad records" + (reader.bad.isEmpty() ? "" : "; first: "
                    + reader.bad.get(0)) + ")");
        }
        return new SquadData(reader.examples, reader.bad, reader.warnings, reader.format);
    }

    /** '[' → flat array; '{' → official or JSON Lines by {@link #officialOrLines}. */
    private String detect(BufferedReader text) throws IOException {
        text.mark(1);
        if (text.read() != '\uFEFF') {
            text.reset();
        }
        text.mark(DETECT_LIMIT);
        int c;
        long line = 1;
        do {
            c = text.read();
            line += c == '\n' ? 1 : 0;
        } while (c == ' ' || c == '\t' || c == '\r' || c == '\n');
        if (c < 0) {
            throw new SquadDataException(source + " is empty");
        }
        if (c != '{' && c != '[') {
            throw new SquadDataException(source + " line " + line + ": not SQuAD JSON, JSON Lines or a JSON array:"
                    + " it starts with '" + Character.toString(c) + "', expected '{' or '['");
        }
        String found = c == '[' ? SquadData.FLAT_ARRAY : officialOrLines(text);
        try {
            text.reset();
        } catch (IOException e) {
            throw new SquadDataException(source + ": could not tell the layout from the first " + DETECT_LIMIT
                    + " characters (" + e.getMessage() + ")");
        }
        return found;
    }

    /**
     * Walks the keys of the first top-level object: "data" holding an array means the official layout, a
     * "question" (or the end of the object) means a JSON Lines record. Other values are skipped.
     */
    private String officialOrLines(BufferedReader text) throws IOException {
        text.reset();
        try (JsonParser p = JSON.createParser(text)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME && p.currentLocation().getCharOffset() < DETECT_LIMIT / 2) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("data") && value == JsonToken.START_ARRAY) {
                    return SquadData.SQUAD_JSON;
                }
                if (name.equals("question") || value == null) {
                    return SquadData.JSON_LINES;
                }
                p.skipChildren();
            }
        } catch (JsonProcessingException e) {
            // a malformed first line: JSON Lines reports it as a bad record
        }
        return SquadData.JSON_LINES;
    }

    private void readSquadJson(BufferedReader text) throws IOException {
        try (JsonParser p = JSON.createParser(text)) {
            p.nextToken();
            boolean sawData = false;
            long question = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (name.equals("version") && p.currentToken() == JsonToken.VALUE_STRING
                        && !p.getText().equals("1.1")) {
                    // the official evaluate-v1.1.py warns and goes on; SQuAD 2.0's unanswerable questions
                    // then show up as bad records ("no answers")
                    warnings.add(new BadRecord(source, 0, "\"version\" is \"" + p.getText() + "\", expected "
                            + "\"1.1\": read as SQuAD v1.1 (questions without answers are bad records)"));
                }
                if (!name.equals("data")) {
                    p.skipChildren();
                    continue;
                }
                if (p.currentToken() != JsonToken.START_ARRAY) {
                    throw new SquadDataException(source + ": \"data\" is " + p.currentToken()
                            + ", expected an array of articles");
                }
                sawData = true;
                int article = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    JsonNode node = p.readValueAsTree();
                    question = readArticle(node, article++, question);
                }
            }
            if (!sawData) {
                throw new SquadDataException(source + ": no \"data\" array at the top level");
            }
            expectEnd(p);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
    }

    /** Reads one article; returns the index of the next question. */
    private long readArticle(JsonNode article, int a, long question) throws IOException {
        String where = "data[" + a + "]";
        if (!article.isObject()) {
            reject(question, where + " is " + RecordFields.describe(article) + ", expected an article object");
            return question;
        }
        String title;
        try {
            title = RecordFields.optionalText(article, "title");
        } catch (Rejected e) {
            title = null;
            warnings.add(new BadRecord(source, question, e.getMessage() + " at " + where + "; title ignored"));
        }
        JsonNode paragraphs = article.get("paragraphs");
        if (paragraphs == null || !paragraphs.isArray()) {
            reject(question, where + ".paragraphs is " + RecordFields.describe(paragraphs) + ", expected an array");
            return question;
        }
        for (int pi = 0; pi < paragraphs.size(); pi++) {
            JsonNode paragraph = paragraphs.get(pi);
            String pWhere = where + ".paragraphs[" + pi + "]";
            JsonNode qas = paragraph.get("qas");
            if (!paragraph.isObject() || qas == null || !qas.isArray()) {
                reject(question, pWhere + (paragraph.isObject() ? ".qas is " + RecordFields.describe(qas)
                        : " is " + RecordFields.describe(paragraph)) + ", expected an array of questions");
                continue;
            }
            String context;
            try {
                context = RecordFields.requiredText(paragraph, "context");
            } catch (Rejected e) {
                reject(question, e.getMessage() + " at " + pWhere + " (" + qas.size() + " questions dropped)");
                question += qas.size();
                continue;
            }
            for (int qi = 0; qi < qas.size(); qi++, question++) {
                JsonNode qa = qas.get(qi);
                String qWhere = " at " + pWhere + ".qas[" + qi + "]";
                try {
                    if (!qa.isObject()) {
                        throw new Rejected("question is " + RecordFields.describe(qa) + ", expected an object");
                    }
                    String id = RecordFields.id(qa);
                    String q = RecordFields.question(qa);
                    add(question, id, title, context, q, RecordFields.answers(qa, context), qWhere);
                } catch (Rejected e) {
                    reject(question, e.getMessage() + qWhere);
                }
            }
        }
        return question;
    }

    private void readFlatArray(BufferedReader text) throws IOException {
        try (JsonParser p = JSON.createParser(text)) {
            p.nextToken();
            long index = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                JsonLocation at = p.currentTokenLocation();
                JsonNode node = p.readValueAsTree();
                String where = " at [" + index + "] (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
                fromObject(node, index, true, where);
                index++;
            }
            expectEnd(p);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
    }

    /** A JSON Lines record or a flat-array element. */
    void fromObject(JsonNode node, long lineOrIndex, boolean flat, String where) throws IOException {
        try {
            if (!node.isObject()) {
                throw new Rejected("record is " + RecordFields.describe(node) + ", expected an object");
            }
            String id = RecordFields.id(node);
            String title = RecordFields.optionalText(node, "title");
            String context = RecordFields.requiredText(node, "context");
            String question = RecordFields.question(node);
            Answers answers = flat && !node.has("answers")
                    ? RecordFields.singleAnswer(node)
                    : RecordFields.answers(node, context);
            add(lineOrIndex, id, title, context, question, answers, where);
        } catch (Rejected e) {
            reject(lineOrIndex, e.getMessage() + where);
        }
    }

    private void add(long lineOrIndex, String id, String title, String context, String question, Answers answers,
            String where) throws IOException {
        String key = id != null ? id : stem + "-" + lineOrIndex;
        Long first = firstSeen.putIfAbsent(key, lineOrIndex);
        if (first != null) {
            reject(lineOrIndex, "duplicate id '" + key + "' (first at " + unit() + " " + first + ")" + where);
            return;
        }
        for (String w : answers.warnings()) {
            warnings.add(new BadRecord(source, lineOrIndex, w + " for id '" + key + "'" + where));
        }
        examples.add(new SquadExample(key, title, context, question, answers.texts(), answers.starts()));
    }

    void reject(long lineOrIndex, String reason) throws SquadDataException {
        if (policy == OnBadRecord.FAIL) {
            throw new SquadDataException(source + " " + unit() + " " + lineOrIndex + ": " + reason);
        }
        bad.add(new BadRecord(source, lineOrIndex, reason));
    }

    String source() {
        return source;
    }

    private String unit() {
        return SquadData.JSON_LINES.equals(format) ? "line" : "record";
    }

    /** Nothing but whitespace may follow the top-level value (Python's json.load: "Extra data"). */
    private void expectEnd(JsonParser p) throws IOException {
        JsonToken extra = p.nextToken();
        if (extra != null) {
            JsonLocation at = p.currentTokenLocation();
            throw new SquadDataException(source + " line " + at.getLineNr() + ", column " + at.getColumnNr()
                    + ": unexpected " + extra + " after the end of the top-level JSON value");
        }
    }

    private SquadDataException malformed(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new SquadDataException(source + where + ": malformed JSON: " + RecordFields.jacksonMessage(e));
    }
}
