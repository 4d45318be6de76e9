package dev.tuneloop.model.squad;

/**
 * A record of a SQuAD file that was rejected (or, in {@link SquadData#warnings()}, kept despite a problem).
 *
 * @param lineOrIndex for JSON Lines the 1-based line; for the JSON formats the 0-based index of the record in file
 *                    order (questions for the official layout, array elements for the flat array), with the
 *                    article/paragraph or line/column named in {@code reason}
 */
public record BadRecord(String source, long lineOrIndex, String reason) {
    @Override
    public String toString() {
        return source + " [" + lineOrIndex + "]: " + reason;
    }
}
