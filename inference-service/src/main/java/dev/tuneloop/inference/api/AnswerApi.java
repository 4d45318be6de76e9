package dev.tuneloop.inference.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneloop.inference.InferenceRuntime;
import dev.tuneloop.inference.ModelServer;
import dev.tuneloop.inference.ServedAdapter;
import dev.tuneloop.security.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** {@code POST /v1/answer}: a SQuAD answer from the promoted adapter, with the prompt it was trained on. */
@Path("/v1/answer")
public class AnswerApi {

    /** @param context the passage; required when the served adapter's prompt shows one */
    public record AnswerRequest(String question, String context) {}

    public record AdapterRef(String run, String checkpoint, Double f1) {
        static AdapterRef of(ServedAdapter adapter) {
            return adapter.isBase() ? null
                    : new AdapterRef(adapter.runId(), adapter.promotion().checkpoint(), adapter.promotion().f1());
        }
    }

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
            @JsonProperty("completion_tokens") int completionTokens) {}

    /** @param adapter {@code null} while no adapter is promoted (the base model answered) */
    public record AnswerResponse(String answer, AdapterRef adapter, Usage usage) {}

    private final InferenceRuntime runtime;
    private final RequestTimer timer;

    public AnswerApi(InferenceRuntime runtime, RequestTimer timer) {
        this.runtime = runtime;
        this.timer = timer;
    }

    @RolesAllowed(Roles.CLIENT)
    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public AnswerResponse answer(AnswerRequest request) {
        return timer.time("answer", () -> {
            if (request == null) {
                throw dev.tuneloop.inference.InvalidRequestException.field("question", "the body must be a JSON object"
                        + " with a question");
            }
            ModelServer.Answer answer = runtime.server().answer(request.question(), request.context());
            return new AnswerResponse(answer.text(), AdapterRef.of(answer.adapter()),
                    new Usage(answer.promptTokens(), answer.completionTokens()));
        });
    }
}
