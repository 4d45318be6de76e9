package dev.tuneloop.model.squad;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A predictions file as the official script reads it: one JSON object {@code {"<question id>": "<answer>"}}. */
public final class SquadPredictions {
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);

    private SquadPredictions() {}

    public static Map<String, String> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads {@code in} to the end without closing it; a repeated id keeps the last answer, like json.load. */
    public static Map<String, String> read(InputStream in, String source) throws IOException {
        Map<String, String> predictions = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(new StrictUtf8Reader(in, source, SquadReader.MAX_FILE_BYTES))) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new SquadDataException(source + ": expected a JSON object {\"<question id>\": \"<answer>\"}, "
                        + (first == null ? "the file is empty" : "found " + first));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String id = p.currentName();
                JsonToken value = p.nextToken();
                if (value != JsonToken.VALUE_STRING) {
                    JsonLocation at = p.currentTokenLocation();
                    throw new SquadDataException(source + " line " + at.getLineNr() + ", column " + at.getColumnNr()
                            + ": the prediction for id '" + id + "' is " + value + ", expected a string");
                }
                predictions.put(id, p.getText());
            }
            JsonToken extra = p.nextToken();
            if (extra != null) {
                JsonLocation at = p.currentTokenLocation();
                throw new SquadDataException(source + " line " + at.getLineNr() + ", column " + at.getColumnNr()
                        + ": unexpected " + extra + " after the predictions object");
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new SquadDataException(source + (at == null ? "" : " line " + at.getLineNr() + ", column "
                    + at.getColumnNr()) + ": malformed JSON: " + RecordFields.jacksonMessage(e));
        }
        return predictions;
    }
}
