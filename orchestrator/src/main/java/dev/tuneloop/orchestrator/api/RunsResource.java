package dev.tuneloop.orchestrator.api;

import dev.tuneloop.orchestrator.CommandException;
import dev.tuneloop.orchestrator.EventLoop;
import dev.tuneloop.orchestrator.OrchestratorConfig;
import dev.tuneloop.orchestrator.RunCommands;
import dev.tuneloop.orchestrator.state.RunRegistry;
import dev.tuneloop.orchestrator.state.RunView;
import dev.tuneloop.security.Roles;
import dev.tuneloop.storage.StorageException;
import dev.tuneloop.storage.StoragePolicy;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.UUID;

/** Training runs: request, list, inspect, cancel, delete. */
@Path("/runs")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class RunsResource {
    private static final String NOT_BLANK = ".*\\S.*";

    @Inject
    RunRegistry registry;
    @Inject
    RunCommands commands;
    @Inject
    EventLoop events;
    @Inject
    OrchestratorConfig config;
    @Inject
    StoragePolicy dataPolicy;

    /**
     * Requests a training run: 201 with the run, or 200 with the existing run when the same request was made under
     * the same {@code runId} before; 409 if the id is taken by another request.
     */
    @RolesAllowed(Roles.OPERATOR)
    @POST
    public Response create(@NotNull @Valid CreateRunRequest body) {
        events.requireLive();
        String runId = body.runId() != null ? body.runId() : "run-" + UUID.randomUUID();
        RunCommands.Requested requested = commands.request(runId, body.toEvent(config.defaults(), dataPolicy));
        return Response.status(requested.created() ? Response.Status.CREATED : Response.Status.OK)
                .location(URI.create("/runs/" + runId))
                .entity(requested.run())
                .build();
    }

    /** Every run, newest request first. */
    @RolesAllowed(Roles.VIEWER)
    @GET
    public List<RunView> list() {
        events.requireLive();
        return registry.runs();
    }

    /** Status, progress, every checkpoint with its EM/F1, and the best. */
    @RolesAllowed(Roles.VIEWER)
    @GET
    @Path("{id}")
    public RunView get(@PathParam("id") String id) {
        events.requireLive();
        return registry.run(id).orElseThrow(() -> CommandException.notFound("run " + id + " is unknown"));
    }

    /**
     * Asks the worker to stop the run (202); the run shows CANCELLING until the worker confirms. No body: who asks
     * and why are optional query parameters.
     */
    @RolesAllowed(Roles.OPERATOR)
    @POST
    @Path("{id}/cancel")
    @Consumes(MediaType.WILDCARD)
    public Response cancel(@PathParam("id") String id,
            @QueryParam("requestedBy") @Pattern(regexp = NOT_BLANK, message = "must not be blank") String requestedBy,
            @QueryParam("reason") @Pattern(regexp = NOT_BLANK, message = "must not be blank") String reason) {
        events.requireLive();
        RunView run = commands.cancel(id, requestedBy == null ? Api.DEFAULT_REQUESTER : requestedBy,
                reason == null ? "cancelled through the API" : reason);
        return Response.accepted(run).build();
    }

    /** Deletes a finished run and every object under its folder. */
    @RolesAllowed(Roles.OPERATOR)
    @DELETE
    @Consumes(MediaType.WILDCARD)
    @Path("{id}")
    public DeletedRun delete(@PathParam("id") String id,
            @QueryParam("requestedBy") @Pattern(regexp = NOT_BLANK, message = "must not be blank")
            String requestedBy) throws StorageException {
        events.requireLive();
        long objects = commands.delete(id, requestedBy == null ? Api.DEFAULT_REQUESTER : requestedBy);
        return new DeletedRun(id, objects);
    }

    /** @param objectsDeleted objects removed from the run's folder */
    public record DeletedRun(String runId, long objectsDeleted) {}
}
