package dev.tuneloop.trainer;

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
 * {@code /q/health/live}: down when the consumer loop or the cancel watcher died, or start-up failed (a restart may
 * help). {@code /q/health/ready}: up once the base model is resolved and the loop polls.
 */
@ApplicationScoped
public class TrainerHealth {
    private static final Duration POLL_STALE = Duration.ofSeconds(30);

    @Inject
    TrainerService service;

    @Produces
    @Liveness
    HealthCheck live() {
        return () -> {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("trainer-threads");
            if (service.startupError().isPresent()) {
                return b.down().withData("error", service.startupError().get()).build();
            }
            if (service.loopStatus().isEmpty()) {
                return b.up().withData("state", "resolving the base model").build();
            }
            boolean loop = service.loopStatus().get().running();
            boolean watcher = service.watcherRunning();
            return b.status(loop && watcher).withData("consumerLoop", loop).withData("cancelWatcher", watcher).build();
        };
    }

    @Produces
    @Readiness
    HealthCheck ready() {
        return () -> {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("trainer");
            service.modelDir().ifPresent(dir -> b.withData("model", dir.toString()));
            if (service.startupError().isPresent()) {
                return b.down().withData("error", service.startupError().get()).build();
            }
            if (service.loopStatus().isEmpty()) {
                return b.down().withData("state", "resolving the base model").build();
            }
            JobLoop.Status s = service.loopStatus().get();
            boolean polling = s.running() && s.lastPoll() != null
                    && s.lastPoll().isAfter(Instant.now().minus(POLL_STALE));
            service.storageStats().filter(st -> st.lastTransientFailure() != null).ifPresent(st -> b
                    .withData("storageRetries", st.retries())
                    .withData("lastStorageFailure", st.lastTransientFailureAt() + " " + st.lastTransientFailure()));
            return b.status(polling).withData("assignedPartitions", s.assignedPartitions())
                    .withData("currentRun", s.currentRunId() == null ? "none" : s.currentRunId())
                    .withData("lag", s.lag()).build();
        };
    }
}
