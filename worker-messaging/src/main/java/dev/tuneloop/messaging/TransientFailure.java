package dev.tuneloop.messaging;

import dev.tuneloop.storage.ChecksumMismatchException;
import dev.tuneloop.storage.StorageException;

/**
 * Whether a job's failure is the infrastructure's (the broker did not acknowledge, the object store is unreachable
 * or answers 5xx/429 after its own retries), to be retried by throwing from the {@link JobLoop.Handler}, rather than
 * the run's (bad input, a 4xx answer, a checksum mismatch), to be published as its outcome.
 */
public final class TransientFailure {
    private TransientFailure() {}

    /** True if {@code e} or one of its causes is a transient failure. */
    public static boolean in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PublishException) {
                return true;
            }
            if (t instanceof StorageException s && !(s instanceof ChecksumMismatchException)) {
                int status = s.httpStatus();
                return status == 0 || status == 429 || status >= 500;
            }
        }
        return false;
    }
}
