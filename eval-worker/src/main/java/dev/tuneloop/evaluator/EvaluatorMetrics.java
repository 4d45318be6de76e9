package dev.tuneloop.evaluator;

import dev.tuneloop.evaluator.job.CheckpointEvaluation;
import dev.tuneloop.messaging.JobLoop;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Locale;

/**
 * Prometheus metrics ({@code /q/metrics}): {@code tuneloop_evaluator_evaluation_seconds{outcome}} (count, sum, max:
 * evaluations, duplicates skipped, failures), {@code tuneloop_evaluator_consumer_lag},
 * {@code tuneloop_evaluator_evaluating} and {@code tuneloop_evaluator_dead_letters_total}.
 */
@ApplicationScoped
public class EvaluatorMetrics {
    @Inject
    MeterRegistry registry;

    void observe(EvaluatorService service) {
        Gauge.builder("tuneloop.evaluator.consumer.lag", service,
                s -> s.loopStatus().map(JobLoop.Status::lag).filter(l -> l >= 0).map(Long::doubleValue)
                        .orElse(Double.NaN))
                .description("saved checkpoints on this worker's partitions not yet evaluated, the running one included")
                .register(registry);
        Gauge.builder("tuneloop.evaluator.evaluating", service,
                s -> s.loopStatus().map(st -> st.currentRunId() == null ? 0.0 : 1.0).orElse(0.0))
                .description("1 while a checkpoint is evaluated").register(registry);
        FunctionCounter.builder("tuneloop.evaluator.dead.letters", service,
                s -> s.loopStatus().map(JobLoop.Status::deadLettered).orElse(0L))
                .description("unreadable CheckpointSaved records sent to the dead-letter topic").register(registry);
    }

    void evaluated(CheckpointEvaluation.Outcome outcome, Duration took) {
        Timer.builder("tuneloop.evaluator.evaluation")
                .description("time from a CheckpointSaved to its outcome (download, adapter load, answering)")
                .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                .register(registry)
                .record(took);
    }
}
