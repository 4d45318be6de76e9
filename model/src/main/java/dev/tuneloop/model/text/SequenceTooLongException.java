package dev.tuneloop.model.text;

/** An example that cannot fit {@code max_seq_len} even with its context cut to nothing; callers count and skip it. */
public final class SequenceTooLongException extends IllegalArgumentException {

    private final int neededLength;
    private final int maxSeqLen;

    public SequenceTooLongException(String message, int neededLength, int maxSeqLen) {
        super(message);
        this.neededLength = neededLength;
        this.maxSeqLen = maxSeqLen;
    }

    /** Tokens the shortest possible sequence would need. */
    public int neededLength() {
        return neededLength;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }
}
