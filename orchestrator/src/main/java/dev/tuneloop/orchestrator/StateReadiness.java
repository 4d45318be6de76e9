package dev.tuneloop.orchestrator;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the state is rebuilt from the topics; until then DOWN with what the consumer is doing. */
@Readiness
@ApplicationScoped
public class StateReadiness implements HealthCheck {
    @Inject
    EventLoop events;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("event-sourced state")
                .status(events.isLive())
                .withData("consumer", events.status())
                .withData("brokerUnavailable", events.brokerUnavailable())
                .build();
    }
}
