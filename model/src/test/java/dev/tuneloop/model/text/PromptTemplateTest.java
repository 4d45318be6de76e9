package dev.tuneloop.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PromptTemplateTest {

    private final ObjectMapper mapper = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(PromptMode.class)
    void jsonRoundTripThroughText(PromptMode mode) throws Exception {
        PromptTemplate template = PromptTemplate.defaults(mode);
        String json = mapper.writeValueAsString(template.toJson());
        JsonNode parsed = mapper.readTree(json);
        assertEquals(List.of("mode", "system_prompt", "user_template"), iterate(parsed));
        assertEquals(mode == PromptMode.CONTEXT ? "context" : "question-only", parsed.get("mode").textValue());
        assertEquals(template, PromptTemplate.fromJson(parsed));
    }

    @Test
    void fillsPlaceholdersOnceAndVerbatim() {
        PromptTemplate template = new PromptTemplate(PromptMode.CONTEXT, "S", "C: {context}\nQ: {question}");
        assertEquals("C: see {question}\nQ: what is {context}?",
                template.userMessage("what is {context}?", "see {question}"));
        assertEquals(List.of(ChatMessage.system("S"), ChatMessage.user("C: x\nQ: y")), template.messages("y", "x"));

        PromptTemplate questionOnly = PromptTemplate.defaults(PromptMode.QUESTION_ONLY);
        String message = questionOnly.userMessage("Who?", null);
        assertTrue(message.endsWith("Question: Who?"), message);
        assertFalse(message.contains("{"), message);
    }

    @Test
    void unknownKeyIsRejectedByName() {
        ObjectNode node = PromptTemplate.defaults(PromptMode.CONTEXT).toJson();
        node.put("systemPrompt", "camelCase by mistake");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptTemplate.fromJson(node));
        assertTrue(e.getMessage().contains("unknown key 'systemPrompt'"), e.getMessage());
    }

    @Test
    void missingOrMistypedKeysAreNamed() {
        ObjectNode missing = PromptTemplate.defaults(PromptMode.CONTEXT).toJson();
        missing.remove("user_template");
        assertMessage("missing key 'user_template'", () -> PromptTemplate.fromJson(missing));

        ObjectNode mistyped = PromptTemplate.defaults(PromptMode.CONTEXT).toJson();
        mistyped.put("system_prompt", 3);
        assertMessage("key 'system_prompt' must be a string, got NUMBER 3", () -> PromptTemplate.fromJson(mistyped));

        ObjectNode badMode = PromptTemplate.defaults(PromptMode.CONTEXT).toJson();
        badMode.put("mode", "question_only");
        assertMessage("prompt mode 'question_only' is unknown; expected one of context, question-only",
                () -> PromptTemplate.fromJson(badMode));

        assertMessage("must be a JSON object", () -> PromptTemplate.fromJson(mapper.createArrayNode()));
    }

    @Test
    void placeholdersMustMatchTheMode() {
        assertMessage("user_template must contain {context} once in mode context, found it 0 time(s)",
                () -> new PromptTemplate(PromptMode.CONTEXT, "S", "Question: {question}"));
        assertMessage("user_template must contain {question} once in mode context, found it 2 time(s)",
                () -> new PromptTemplate(PromptMode.CONTEXT, "S", "{context} {question} {question}"));
        assertMessage("user_template must not contain {context} in mode question-only, found it 1 time(s)",
                () -> new PromptTemplate(PromptMode.QUESTION_ONLY, "S", "{context} {question}"));
        assertMessage("user_template must contain {question} once in mode question-only, found it 0 time(s)",
                () -> new PromptTemplate(PromptMode.QUESTION_ONLY, "S", "Answer."));
        assertMessage("system_prompt contains {question}",
                () -> new PromptTemplate(PromptMode.QUESTION_ONLY, "About {question}", "{question}"));
        assertMessage("system_prompt must not be null",
                () -> new PromptTemplate(PromptMode.QUESTION_ONLY, null, "{question}"));
    }

    private static void assertMessage(String expectedPart, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expectedPart), () -> "expected '" + expectedPart + "' in: " + e.getMessage());
    }

    private static List<String> iterate(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
