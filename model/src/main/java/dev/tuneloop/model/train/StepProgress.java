package dev.tuneloop.model.train;

import java.io.PrintStream;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of a long loop: on a terminal one updating line on stderr (done/total, rate, ETA and a caller's detail);
 * otherwise a structured log line at most every {@code logEverySeconds}.
 */
public final class StepProgress {
    private static final Logger LOG = LoggerFactory.getLogger(StepProgress.class);
    private final String what;
    private final long total;
    private final long startDone;
    private final long startNanos = System.nanoTime();
    private final boolean terminal = System.console() != null;
    private final PrintStream err = System.err;
    private long lastPrint;

    public StepProgress(String what, long startDone, long total) {
        this.what = what;
        this.total = total;
        this.startDone = startDone;
    }

    public void update(long done, String detail) {
        long now = System.nanoTime();
        boolean last = done >= total;
        if (!last && now - lastPrint < (terminal ? 200_000_000L : 10_000_000_000L)) {
            return;
        }
        lastPrint = now;
        double seconds = (now - startNanos) / 1e9;
        double rate = (done - startDone) / Math.max(seconds, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : Double.NaN;
        String line = String.format(Locale.ROOT, "%s %d/%d (%.0f%%) %s | %.2f/s | elapsed %s | ETA %s", what, done,
                total, 100.0 * done / Math.max(1, total), detail, rate, clock(seconds), clock(eta));
        if (terminal) {
            err.print("\r\033[K" + line + (last ? "\n" : ""));
            err.flush();
        } else {
            LOG.info(line);
        }
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format("%dm%02ds", s / 60, s % 60);
    }
}
