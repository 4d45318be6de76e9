package dev.tuneloop.storage;

/** An object's bytes do not hash to what was expected: corrupted, tampered with, or replaced. */
public final class ChecksumMismatchException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final String expectedSha256;
    private final String actualSha256;

    public ChecksumMismatchException(String operation, String uri, String what, String expectedSha256,
            String actualSha256) {
        super(operation, uri, 1, 0, null,
                "sha256 mismatch: " + what + " expected " + expectedSha256 + ", got " + actualSha256, null);
        this.expectedSha256 = expectedSha256;
        this.actualSha256 = actualSha256;
    }

    public String expectedSha256() {
        return expectedSha256;
    }

    public String actualSha256() {
        return actualSha256;
    }
}
