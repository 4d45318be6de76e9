package dev.tuneloop.trainer;

import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.RunCancelled;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.RunFailed;
import dev.tuneloop.contracts.TrainingProgressed;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.messaging.EventPublisher;
import dev.tuneloop.messaging.JobLoop;
import dev.tuneloop.storage.ObjectStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.ToLongFunction;

/**
 * Prometheus metrics ({@code /q/metrics}), derived from the events the worker publishes and the loop's status:
 * {@code tuneloop_trainer_jobs_total{outcome}}, {@code tuneloop_trainer_steps_per_second},
 * {@code tuneloop_trainer_job_running}, {@code tuneloop_trainer_consumer_lag}, the loop's counters, failed publishes
 * ({@code tuneloop_trainer_publish_failures_total}) and the storage client's
 * {@code tuneloop_trainer_storage_retries_total} / {@code tuneloop_trainer_storage_failures_total}.
 */
@ApplicationScoped
public class TrainerMetrics {
    @Inject
    MeterRegistry registry;

    private long lastStep = -1;
    private long lastNanos;
    private volatile double stepsPerSecond;

    void observe(EventPublisher publisher, TrainerService service) {
        publisher.onPublished(this::published);
        Gauge.builder("tuneloop.trainer.steps.per.second", this, m -> m.stepsPerSecond)
                .description("optimizer steps per second of the running job, between its last two progress events")
                .register(registry);
        Gauge.builder("tuneloop.trainer.job.running", service,
                s -> s.loopStatus().map(st -> st.currentRunId() == null ? 0.0 : 1.0).orElse(0.0))
                .description("1 while a training job runs").register(registry);
        Gauge.builder("tuneloop.trainer.consumer.lag", service,
                s -> s.loopStatus().map(JobLoop.Status::lag).filter(l -> l >= 0).map(Long::doubleValue)
                        .orElse(Double.NaN))
                .description("training requests on this worker's partitions not yet done, the running one included")
                .register(registry);
        counter(service, "tuneloop.trainer.dead.letters", "unreadable requests sent to the dead-letter topic",
                JobLoop.Status::deadLettered);
        counter(service, "tuneloop.trainer.handoffs", "jobs handed to another worker", JobLoop.Status::handedOff);
        counter(service, "tuneloop.trainer.retries", "jobs retried after an infrastructure failure",
                JobLoop.Status::jobsRetried);
        FunctionCounter.builder("tuneloop.trainer.publish.failures", publisher, EventPublisher::failures)
                .description("events the broker did not acknowledge in time (progress is dropped, anything else "
                        + "retries the job)")
                .register(registry);
        FunctionCounter.builder("tuneloop.trainer.storage.retries", service,
                        s -> s.storageStats().map(ObjectStore.Stats::retries).orElse(0L))
                .description("storage calls tried again after a transient failure (the store was unreachable)")
                .register(registry);
        FunctionCounter.builder("tuneloop.trainer.storage.failures", service,
                        s -> s.storageStats().map(ObjectStore.Stats::failedCalls).orElse(0L))
                .description("storage calls that failed for good").register(registry);
    }

    private void counter(TrainerService service, String name, String description, ToLongFunction<JobLoop.Status> f) {
        FunctionCounter.builder(name, service, s -> s.loopStatus().map(f::applyAsLong).orElse(0L))
                .description(description).register(registry);
    }

    private synchronized void published(EventEnvelope<?> event) {
        if (event.payload() instanceof TrainingStarted started) {
            lastStep = started.resumedFromStep();
            lastNanos = System.nanoTime();
        } else if (event.payload() instanceof TrainingProgressed progress) {
            long now = System.nanoTime();
            if (lastStep >= 0 && progress.step() > lastStep) {
                stepsPerSecond = (progress.step() - lastStep) / ((now - lastNanos) / 1e9);
            }
            lastStep = progress.step();
            lastNanos = now;
        } else if (event.payload() instanceof RunCompleted) {
            ended("completed");
        } else if (event.payload() instanceof RunFailed) {
            ended("failed");
        } else if (event.payload() instanceof RunCancelled) {
            ended("cancelled");
        }
    }

    private void ended(String outcome) {
        registry.counter("tuneloop.trainer.jobs", "outcome", outcome).increment();
        stepsPerSecond = 0;
        lastStep = -1;
    }
}
