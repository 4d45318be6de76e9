package dev.tuneloop.storage;

import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.FileSystemException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one storage call under a {@link RetryPolicy}: retries connection failures, timeouts and HTTP 5xx answers,
 * turns everything else into a {@link StorageException} with the HTTP status, the S3 error code and a readable cause.
 */
final class Retrier {
    private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);
    /** The MinIO SDK reports non-XML answers (a proxy's 502 page) with the status only in the message. */
    private static final Pattern NON_XML_STATUS = Pattern.compile("Response code: (\\d{3})");

    private final RetryPolicy retry;
    private final String endpoint;
    private final LongAdder retries = new LongAdder();
    private final LongAdder failedCalls = new LongAdder();
    private volatile String lastFailure;
    private volatile Instant lastFailureAt;

    Retrier(RetryPolicy retry, String endpoint) {
        this.retry = retry;
        this.endpoint = endpoint;
    }

    @FunctionalInterface
    interface Call<T> {
        T run() throws Exception;
    }

    <T> T call(String operation, String uri, Call<T> body) throws StorageException {
        for (int attempt = 1; ; attempt++) {
            try {
                return body.run();
            } catch (StorageException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                int status = httpStatus(e);
                boolean isTransient = isTransient(e, status);
                if (isTransient) {
                    lastFailure = operation + " " + uri + " (attempt " + attempt + "/" + retry.maxAttempts() + "): "
                            + describe(e, status);
                    lastFailureAt = Instant.now();
                }
                if (!isTransient || attempt >= retry.maxAttempts()) {
                    failedCalls.increment();
                    throw new StorageException(operation, uri, attempt, status, errorCode(e), describe(e, status), e);
                }
                retries.increment();
                Duration pause = retry.backoffAfter(attempt);
                LOG.warn("{} {} failed (attempt {}/{}), retrying in {} ms: {}", operation, uri, attempt,
                        retry.maxAttempts(), pause.toMillis(), describe(e, status));
                try {
                    Thread.sleep(pause.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new StorageException(operation, uri, attempt, status, errorCode(e),
                            "interrupted while waiting to retry after: " + describe(e, status), e);
                }
            }
        }
    }

    /** What the retries saw so far, for metrics and status. */
    ObjectStore.Stats stats() {
        return new ObjectStore.Stats(retries.sum(), failedCalls.sum(), lastFailure, lastFailureAt);
    }

    private static boolean isTransient(Exception e, int status) {
        if (Thread.currentThread().isInterrupted() || e instanceof InterruptedException) {
            return false;
        }
        if (status >= 500) {
            return true;
        }
        if (e instanceof ErrorResponseException || e instanceof InvalidResponseException) {
            return false;
        }
        // Connection refused or reset, timeouts, truncated responses; but not local file errors.
        return e instanceof IOException && !(e instanceof FileSystemException)
                && !(e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException));
    }

    private static int httpStatus(Exception e) {
        if (e instanceof ErrorResponseException r && r.response() != null) {
            return r.response().code();
        }
        if (e instanceof ServerException s) {
            return s.statusCode();
        }
        if (e instanceof InvalidResponseException) {
            Matcher m = NON_XML_STATUS.matcher(String.valueOf(e.getMessage()));
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        }
        return 0;
    }

    private static String errorCode(Exception e) {
        return e instanceof ErrorResponseException r ? r.errorResponse().code() : null;
    }

    private String describe(Exception e, int status) {
        String text;
        if (e instanceof ErrorResponseException r) {
            text = "HTTP " + status + " " + r.errorResponse().code() + ": " + r.errorResponse().message();
        } else if (e instanceof ConnectException) {
            text = "cannot connect to " + endpoint + ": " + e.getMessage();
        } else if (status > 0) {
            text = "HTTP " + status + ": " + e.getMessage();
        } else {
            text = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        if (text.length() > 500) {
            text = text.substring(0, 500) + "...";
        }
        if (status == 403) {
            text += " (check the access key, the secret key and the bucket's permissions)";
        }
        return text;
    }
}
