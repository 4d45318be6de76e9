package dev.tuneloop.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private final AtomicLong nanos = new AtomicLong();
    private final List<String> out = new ArrayList<>();

    private void after(double seconds) {
        nanos.addAndGet((long) (seconds * 1e9));
    }

    @Test
    void terminalLineShowsBytesRateAndEtaAndRewritesItself() {
        Progress p = Progress.terminal(out::add, nanos::get);
        p.start("model.safetensors", 100_000_000, 20_000_000); // resumed at 20 MB

        after(2);
        p.advance(10_000_000); // 10 MB in 2 s = 5 MB/s, 70 MB left = 14 s

        assertEquals("\rmodel.safetensors  30.0 MB / 100.0 MB  5.0 MB/s  ETA 0:14", out.get(0));
        after(0.05);
        p.advance(1); // too soon for another line
        assertEquals(1, out.size());

        after(14);
        p.advance(69_999_999);
        p.finish();
        String last = out.get(out.size() - 1);
        assertTrue(last.startsWith("\rmodel.safetensors  100.0 MB / 100.0 MB  5.0 MB/s  ETA 0:00"), last);
        assertTrue(last.endsWith("\n"), "the final line ends the \\r line");
    }

    @Test
    void logModeWritesAStructuredLineEveryFewSecondsAndAtTheEnd() {
        Progress p = Progress.logLines(out::add, nanos::get);
        p.start("config.json", 1_000_000, 0);
        after(1);
        p.advance(200_000);
        assertEquals(List.of(), out, "nothing within the first seconds");
        after(5);
        p.advance(300_000);
        p.finish();

        assertEquals(List.of(
                "download running file=config.json bytes=500000 total=1000000 rate_mb_s=0.08 eta_s=6",
                "download done file=config.json bytes=500000 total=1000000 rate_mb_s=0.08 eta_s=6"), out);
    }
}
