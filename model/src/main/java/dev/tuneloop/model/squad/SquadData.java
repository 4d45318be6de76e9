package dev.tuneloop.model.squad;

import java.util.List;

/**
 * What {@link SquadReader} read from one file.
 *
 * @param examples   the valid questions, in file order, ids unique
 * @param badRecords the records left out, in file order
 * @param warnings   records kept despite a problem (an {@code answer_start} that did not point at the answer text
 *                   while the text occurs elsewhere in the context)
 * @param format     {@link #SQUAD_JSON}, {@link #JSON_LINES} or {@link #FLAT_ARRAY}
 */
public record SquadData(List<SquadExample> examples, List<BadRecord> badRecords, List<BadRecord> warnings,
        String format) {
    public static final String SQUAD_JSON = "squad-v1.1-json";
    public static final String JSON_LINES = "jsonl";
    public static final String FLAT_ARRAY = "flat-json-array";

    public SquadData {
        examples = List.copyOf(examples);
        badRecords = List.copyOf(badRecords);
        warnings = List.copyOf(warnings);
    }

    /** One line for logs: counts of examples, bad records and warnings. */
    public String summary() {
        return examples.size() + " questions (" + format + "), " + badRecords.size() + " bad records skipped, "
                + warnings.size() + " warnings";
    }
}
