package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SquadPredictionsTest {
    @TempDir
    Path dir;

    @Test
    void readsIdToAnswerAndKeepsTheLastOfARepeatedId() throws IOException {
        Path file = Files.writeString(dir.resolve("p.json"), "{\"q1\": \"Denver\", \"q2\": \"\", \"q1\": \"Broncos\"}");
        assertEquals(Map.of("q1", "Broncos", "q2", ""), SquadPredictions.read(file));
    }

    @Test
    void errorsNameTheFileTheIdAndThePlace() throws IOException {
        Path number = Files.writeString(dir.resolve("n.json"), "{\"q1\": \"a\",\n \"q2\": 3}");
        assertEquals(number + " line 2, column 8: the prediction for id 'q2' is VALUE_NUMBER_INT, expected a string",
                assertThrows(SquadDataException.class, () -> SquadPredictions.read(number)).getMessage());
        Path empty = Files.writeString(dir.resolve("e.json"), "");
        assertEquals(empty + ": expected a JSON object {\"<question id>\": \"<answer>\"}, the file is empty",
                assertThrows(SquadDataException.class, () -> SquadPredictions.read(empty)).getMessage());
        Path truncated = Files.writeString(dir.resolve("t.json"), "{\"q1\": \"a\"");
        String message = assertThrows(SquadDataException.class, () -> SquadPredictions.read(truncated)).getMessage();
        assertTrue(message.startsWith(truncated + " line 1, column 11: malformed JSON: Unexpected end-of-input"),
                message);
    }
}
