package dev.tuneloop.model.squad;

import java.io.IOException;

/** A SQuAD file that cannot be read: malformed JSON or UTF-8, a bad record under {@link OnBadRecord#FAIL}, ... */
public final class SquadDataException extends IOException {
    public SquadDataException(String message) {
        super(message);
    }
}
