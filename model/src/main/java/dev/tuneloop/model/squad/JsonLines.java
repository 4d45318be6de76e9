package dev.tuneloop.model.squad;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;

/** The JSON Lines layout: one record per line; a line that is not JSON is a bad record; blank lines are skipped. */
final class JsonLines {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final SquadReader reader;
    private final char[] buf = new char[1 << 16];
    private int pos;
    private int limit;
    private final StringBuilder line = new StringBuilder();

    JsonLines(SquadReader reader) {
        this.reader = reader;
    }

    void read(Reader text) throws IOException {
        long lineNo = 0;
        while (nextLine(text, lineNo + 1)) {
            lineNo++;
            if (line.length() > 0 && line.charAt(line.length() - 1) == '\r') {
                line.setLength(line.length() - 1);
            }
            String record = line.toString();
            if (record.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(record);
            } catch (JsonProcessingException e) {
                JsonLocation at = e.getLocation();
                reader.reject(lineNo, "malformed JSON" + (at == null ? "" : " at column " + at.getColumnNr()) + ": "
                        + RecordFields.jacksonMessage(e));
                continue;
            }
            reader.fromObject(node, lineNo, false, "");
        }
    }

    /** Reads the next line (without '\n') into {@link #line}; false at the end of input. */
    private boolean nextLine(Reader text, long lineNo) throws IOException {
        line.setLength(0);
        while (true) {
            if (pos == limit) {
                limit = text.read(buf, 0, buf.length);
                pos = 0;
                if (limit < 0) {
                    limit = 0;
                    return line.length() > 0;
                }
            }
            int start = pos;
            while (pos < limit && buf[pos] != '\n') {
                pos++;
            }
            line.append(buf, start, pos - start);
            if (line.length() > SquadReader.MAX_LINE_CHARS) {
                throw new SquadDataException(reader.source() + " line " + lineNo + " is longer than "
                        + SquadReader.MAX_LINE_CHARS + " characters: too large for one JSON Lines record");
            }
            if (pos < limit) {
                pos++;
                return true;
            }
        }
    }
}
