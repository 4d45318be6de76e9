package dev.tuneloop.orchestrator.api;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.orchestrator.EventLoop;
import dev.tuneloop.orchestrator.Promoter;
import dev.tuneloop.orchestrator.state.Promotion;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The adapter served under the configured model name: the current promotion, its history, and promoting by hand. */
@Path("/promotions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class PromotionsResource {
    @Inject
    RunRegistry registry;
    @Inject
    Promoter promoter;
    @Inject
    EventLoop events;

    /**
     * The current promotion and those before it, newest first. The promotions topic is compacted, so after a
     * restart the history may hold only the latest promotion.
     */
    @RolesAllowed(Roles.VIEWER)
    @GET
    public Promotions get() {
        events.requireLive();
        List<PromotionView> history = registry.promotions().getOrDefault(promoter.servedModel(), List.of()).stream()
                .map(PromotionView::of)
                .toList();
        return new Promotions(promoter.servedModel(), history.isEmpty() ? null : history.get(0), history);
    }

    /**
     * Promotes (or rolls back to) a checkpoint by hand. Pinned by default: automatic promotion leaves it alone
     * until a promotion with {@code "pinned": false} hands the choice back to the policy.
     */
    @RolesAllowed(Roles.OPERATOR)
    @POST
    public Response promote(@NotNull @Valid PromoteRequest body) {
        events.requireLive();
        boolean pinned = body.pinned() == null || body.pinned();
        AdapterPromoted promoted = promoter.promoteByHand(body.runId(), body.checkpoint(), pinned);
        return Response.status(Response.Status.CREATED)
                .entity(PromotionView.of(body.runId(), promoted))
                .build();
    }

    /** @param pinned default true */
    public record PromoteRequest(@NotBlank String runId, @NotBlank String checkpoint, Boolean pinned) {}

    public record Promotions(String servedModel, PromotionView current, List<PromotionView> history) {}

    public record PromotionView(String runId, String checkpoint, long generation, Double f1, String evalSetId,
            boolean pinned, Instant promotedAt, Map<String, StoredObject> files) {
        static PromotionView of(Promotion p) {
            return of(p.runId(), p.adapter());
        }

        static PromotionView of(String runId, AdapterPromoted a) {
            return new PromotionView(runId, a.checkpoint(), a.generation(), a.f1(), a.evalSetId(), a.pinned(),
                    a.promotedAt(), a.files());
        }
    }
}
