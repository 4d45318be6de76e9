package dev.tuneloop.model.squad;

/** What {@link SquadReader} does with a record it cannot use. */
public enum OnBadRecord {
    /** Leave it out and list it in {@link SquadData#badRecords()}. */
    SKIP,
    /** Throw a {@link SquadDataException} naming the file, line or record, and the reason. */
    FAIL
}
