package dev.tuneloop.contracts;

import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where in a JSON document Jackson stopped, as a field path like {@code hyperParameters.targetModules[1]}: the part of
 * an error message that names the field (events, REST bodies).
 */
public final class JsonPaths {
    private JsonPaths() {
    }

    /** The path of a mapping error ({@code messages[0].colour}); empty at the root. */
    public static String of(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                out.append(out.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    /** Where a streaming parser stopped ({@code messages[0].content}); empty at the root. */
    public static String of(JsonStreamContext context) {
        List<String> segments = new ArrayList<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                segments.add(0, "[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.getCurrentName() != null) {
                segments.add(0, c.getCurrentName());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String segment : segments) {
            out.append(out.length() == 0 || segment.startsWith("[") ? "" : ".").append(segment);
        }
        return out.toString();
    }
}
