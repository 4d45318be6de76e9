package dev.tuneloop.inference.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Supplier;

/** The request latency histogram {@code tuneloop.inference.request} by endpoint and outcome (ok, or the error). */
@ApplicationScoped
public class RequestTimer {
    private final MeterRegistry registry;

    public RequestTimer(MeterRegistry registry) {
        this.registry = registry;
    }

    public <T> T time(String endpoint, Supplier<T> call) {
        long start = System.nanoTime();
        String outcome = "ok";
        try {
            return call.get();
        } catch (RuntimeException e) {
            outcome = e.getClass().getSimpleName();
            throw e;
        } finally {
            record(endpoint, outcome, System.nanoTime() - start);
        }
    }

    public void record(String endpoint, String outcome, long nanos) {
        Timer.builder("tuneloop.inference.request")
                .description("request latency, queueing and generation included")
                .tag("endpoint", endpoint)
                .tag("outcome", outcome)
                .publishPercentileHistogram()
                .register(registry)
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
