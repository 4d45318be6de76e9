package dev.tuneloop.inference.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.InferenceRuntime;
import dev.tuneloop.inference.ModelServer;
import dev.tuneloop.inference.PromotionFollower;
import dev.tuneloop.inference.ServedAdapter;
import dev.tuneloop.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/** {@code GET /v1/adapter}: what the served name stands for now and since when, and the last refused promotion. */
@Path("/v1/adapter")
public class AdapterApi {

    /**
     * @param adapter {@code null} while no adapter is promoted (the base model serves)
     * @param since   when the current adapter (or, without one, the base model) started serving
     */
    public record AdapterStatus(@JsonProperty("served_model") String servedModel,
            @JsonProperty("base_model") String baseModel, Adapter adapter, Instant since, String prompt,
            double swaps, @JsonProperty("failed_swaps") double failedSwaps,
            @JsonProperty("last_refusal") PromotionFollower.Refusal lastRefusal) {}

    /** @param files file name → sha256 of what is served */
    public record Adapter(String run, String checkpoint, Double f1, @JsonProperty("eval_set_id") String evalSetId,
            long generation, boolean pinned, @JsonProperty("promoted_at") Instant promotedAt,
            Map<String, String> files, @JsonProperty("lora_modules") int loraModules,
            @JsonProperty("lora_bytes") long loraBytes) {}

    private final InferenceRuntime runtime;

    public AdapterApi(InferenceRuntime runtime) {
        this.runtime = runtime;
    }

    @RolesAllowed({Roles.CLIENT, Roles.VIEWER})
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public AdapterStatus adapter() {
        ModelServer server = runtime.server();
        PromotionFollower follower = runtime.follower();
        ServedAdapter current = server.current();
        Adapter adapter = null;
        if (!current.isBase()) {
            AdapterPromoted p = current.promotion();
            Map<String, String> files = new TreeMap<>();
            for (Map.Entry<String, StoredObject> f : p.files().entrySet()) {
                files.put(f.getKey(), f.getValue().sha256());
            }
            adapter = new Adapter(current.runId(), p.checkpoint(), p.f1(), p.evalSetId(), p.generation(), p.pinned(),
                    p.promotedAt(), files, current.weights().modules().size(), current.weights().bytes());
        }
        PromotionFollower.Refusal refusal = follower.lastRefusal(); // read first: a refusal seen is counted below
        return new AdapterStatus(server.servedModel(), server.baseModelName(), adapter, current.since(),
                current.prompt().describe(), follower.swaps(), follower.failedSwaps(), refusal);
    }
}
