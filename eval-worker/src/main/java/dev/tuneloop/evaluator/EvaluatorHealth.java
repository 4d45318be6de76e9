package dev.tuneloop.evaluator;

import dev.tuneloop.messaging.JobLoop;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code /q/health/live}: down when the consumer loop died or start-up failed (a restart may help).
 * {@code /q/health/ready}: up once the base model is loaded and the loop polls.
 */
@ApplicationScoped
public class EvaluatorHealth {
    private static final Duration POLL_STALE = Duration.ofSeconds(30);

    @Inject
    EvaluatorService service;

    @Produces
    @Liveness
    HealthCheck live() {
        return () -> {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("evaluator-threads");
            if (service.startupError().isPresent()) {
                return b.down().withData("error", service.startupError().get()).build();
            }
            boolean loop = service.loopStatus().map(JobLoop.Status::running).orElse(true);
            return b.status(loop).withData("consumerLoop", loop).build();
        };
    }

    @Produces
    @Readiness
    HealthCheck ready() {
        return () -> {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("evaluator");
            service.modelDir().ifPresent(dir -> b.withData("model", dir.toString()));
            if (service.startupError().isPresent()) {
                return b.down().withData("error", service.startupError().get()).build();
            }
            if (service.loopStatus().isEmpty()) {
                return b.down().withData("state", "loading the base model").build();
            }
            JobLoop.Status s = service.loopStatus().get();
            boolean polling = s.running() && s.lastPoll() != null
                    && s.lastPoll().isAfter(Instant.now().minus(POLL_STALE));
            return b.status(polling).withData("assignedPartitions", s.assignedPartitions())
                    .withData("currentRun", s.currentRunId() == null ? "none" : s.currentRunId())
                    .withData("lag", s.lag()).build();
        };
    }
}
