package dev.tuneloop.model.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Download progress of one file at a time. On a terminal: a single line on stderr rewritten in place with
 * {@code \r} (bytes, MB/s, ETA). Elsewhere (CI, services, redirected stderr): a structured log line every few
 * seconds and one at the end. {@link #silent()} prints nothing.
 */
public final class Progress {
    private static final Logger log = LoggerFactory.getLogger(Progress.class);
    private static final long TERMINAL_EVERY_NANOS = 200_000_000L;
    private static final long LOG_EVERY_NANOS = 5_000_000_000L;

    private enum Mode { SILENT, TERMINAL, LOG }

    private final Mode mode;
    private final Consumer<String> sink;
    private final LongSupplier nanoClock;

    private String name = "";
    private long total = -1;
    private long resumedAt;
    private long done;
    private long startNanos;
    private long lastEmitNanos;
    private int lastLineLength;

    private Progress(Mode mode, Consumer<String> sink, LongSupplier nanoClock) {
        this.mode = mode;
        this.sink = Objects.requireNonNull(sink);
        this.nanoClock = Objects.requireNonNull(nanoClock);
    }

    public static Progress silent() {
        return new Progress(Mode.SILENT, s -> { }, System::nanoTime);
    }

    /** A terminal line when a console is attached ({@code System.console() != null}), else log lines. */
    public static Progress standard() {
        if (System.console() != null) {
            PrintStream err = System.err;
            return new Progress(Mode.TERMINAL, s -> {
                err.print(s);
                err.flush();
            }, System::nanoTime);
        }
        return new Progress(Mode.LOG, log::info, System::nanoTime);
    }

    static Progress terminal(Consumer<String> sink, LongSupplier nanoClock) {
        return new Progress(Mode.TERMINAL, sink, nanoClock);
    }

    static Progress logLines(Consumer<String> sink, LongSupplier nanoClock) {
        return new Progress(Mode.LOG, sink, nanoClock);
    }

    /** A download of {@code name} begins; {@code totalBytes} may be -1 (unknown), {@code resumedAt} already on disk. */
    public void start(String name, long totalBytes, long resumedAt) {
        this.name = name;
        this.total = totalBytes;
        this.resumedAt = resumedAt;
        this.done = resumedAt;
        this.startNanos = nanoClock.getAsLong();
        this.lastEmitNanos = startNanos;
        this.lastLineLength = 0;
    }

    public void advance(long bytes) {
        done += bytes;
        long now = nanoClock.getAsLong();
        long every = mode == Mode.TERMINAL ? TERMINAL_EVERY_NANOS : LOG_EVERY_NANOS;
        if (mode != Mode.SILENT && now - lastEmitNanos >= every) {
            lastEmitNanos = now;
            emit(false, "running");
        }
    }

    /** The file is complete: prints the final state. */
    public void finish() {
        if (mode != Mode.SILENT) {
            emit(true, "done");
        }
    }

    /** The download stopped short (an error follows): prints where it stopped. */
    public void fail() {
        if (mode != Mode.SILENT) {
            emit(true, "stopped");
        }
    }

    private void emit(boolean last, String state) {
        double seconds = Math.max(1e-9, (nanoClock.getAsLong() - startNanos) / 1e9);
        double rate = (done - resumedAt) / seconds; // bytes/s over this session's bytes only
        long eta = total > 0 && rate > 0 ? Math.round(Math.max(0, total - done) / rate) : -1;
        if (mode == Mode.TERMINAL) {
            String line = String.format(Locale.ROOT, "%s  %s / %s  %.1f MB/s  ETA %s", name, mb(done),
                    total >= 0 ? mb(total) : "?", rate / 1e6, eta >= 0 ? clock(eta) : "?");
            String pad = " ".repeat(Math.max(0, lastLineLength - line.length()));
            lastLineLength = line.length();
            sink.accept("\r" + line + pad + (last ? "\n" : ""));
        } else {
            sink.accept(String.format(Locale.ROOT, "download %s file=%s bytes=%d total=%d rate_mb_s=%.2f eta_s=%d",
                    state, name, done, total, rate / 1e6, eta));
        }
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static String clock(long seconds) {
        return seconds >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }
}
