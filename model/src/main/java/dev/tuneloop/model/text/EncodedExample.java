package dev.tuneloop.model.text;

/**
 * One training sequence. {@code labels} are aligned with {@code inputIds} (labels[i] = inputIds[i] on the target
 * positions, {@link #IGNORE} on the prompt); the causal-LM loss shifts them itself, as Hugging Face's does.
 * The arrays are not copied: do not modify them. Equality is by reference, as for any record holding arrays.
 */
public record EncodedExample(long[] inputIds, long[] labels, int promptLength, boolean contextTruncated) {

    /** Label of positions the loss ignores (PyTorch's {@code ignore_index}). */
    public static final long IGNORE = -100;

    public EncodedExample {
        if (inputIds == null || labels == null || inputIds.length != labels.length) {
            throw new IllegalArgumentException("input_ids and labels must have the same length, got "
                    + (inputIds == null ? "null" : inputIds.length) + " and "
                    + (labels == null ? "null" : labels.length));
        }
        if (promptLength < 0 || promptLength >= inputIds.length) {
            throw new IllegalArgumentException("prompt length " + promptLength + " must leave at least one target in "
                    + inputIds.length + " tokens");
        }
    }

    public int length() {
        return inputIds.length;
    }

    /** Positions that count in the loss: the answer tokens and the closing {@code <|im_end|>}. */
    public int targetLength() {
        return inputIds.length - promptLength;
    }
}
