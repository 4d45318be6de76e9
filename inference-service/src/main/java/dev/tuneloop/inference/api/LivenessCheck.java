package dev.tuneloop.inference.api;

import dev.tuneloop.inference.InferenceRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** {@code /q/health/live}: DOWN when start-up failed for good or the batching thread died (a restart helps). */
@Liveness
@ApplicationScoped
public class LivenessCheck implements HealthCheck {
    private final InferenceRuntime runtime;

    public LivenessCheck(InferenceRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        boolean up = runtime.failure() == null && runtime.batcherAlive();
        var response = HealthCheckResponse.named("batcher").status(up);
        if (runtime.failure() != null) {
            response.withData("failure", runtime.failure());
        }
        return response.build();
    }
}
