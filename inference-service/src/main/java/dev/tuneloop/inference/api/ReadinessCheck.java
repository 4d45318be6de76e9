package dev.tuneloop.inference.api;

import dev.tuneloop.inference.InferenceRuntime;
import dev.tuneloop.inference.ServedAdapter;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** {@code /q/health/ready}: UP once the base model is loaded and the promotions topic was read to its end. */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {
    private final InferenceRuntime runtime;

    public ReadinessCheck(InferenceRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("model")
                .status(runtime.isReady())
                .withData("baseModelLoaded", runtime.baseModelLoaded())
                .withData("promotionsRead", runtime.promotionsRead())
                .withData("checkpointsFollowed", runtime.checkpointsFollowed());
        if (runtime.isReady()) {
            ServedAdapter current = runtime.server().current();
            response.withData("serving", current.describe());
        }
        if (runtime.failure() != null) {
            response.withData("failure", runtime.failure());
        }
        return response.build();
    }
}
