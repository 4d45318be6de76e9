package dev.tuneloop.inference.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.inference.InferenceRuntime;
import dev.tuneloop.inference.InvalidRequestException;
import dev.tuneloop.inference.ModelServer;
import dev.tuneloop.inference.ServedAdapter;
import dev.tuneloop.inference.api.ChatResponses.AssistantMessage;
import dev.tuneloop.inference.api.ChatResponses.ChatCompletion;
import dev.tuneloop.inference.api.ChatResponses.Choice;
import dev.tuneloop.inference.api.ChatResponses.Chunk;
import dev.tuneloop.inference.api.ChatResponses.ChunkChoice;
import dev.tuneloop.inference.api.ChatResponses.Delta;
import dev.tuneloop.inference.api.ChatResponses.ModelCard;
import dev.tuneloop.inference.api.ChatResponses.ModelList;
import dev.tuneloop.inference.api.ChatResponses.Usage;
import dev.tuneloop.security.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenAI-compatible {@code POST /v1/chat/completions} (plain or {@code stream: true} as server-sent events) and
 * {@code GET /v1/models}. The request's {@code model} picks: the served name → the promoted adapter (the base model
 * while none is promoted), the base model's name → the base model, anything else → 404 naming the known models.
 */
@Path("/v1")
public class OpenAiApi {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiApi.class);

    private final InferenceRuntime runtime;
    private final RequestTimer timer;
    private final ObjectMapper json;

    public OpenAiApi(InferenceRuntime runtime, RequestTimer timer, ObjectMapper json) {
        this.runtime = runtime;
        this.timer = timer;
        this.json = json;
    }

    @RolesAllowed(Roles.CLIENT)
    @GET
    @Path("/models")
    @Produces(MediaType.APPLICATION_JSON)
    public ModelList models() {
        ModelServer server = runtime.server();
        long created = runtime.startedAt().getEpochSecond();
        ServedAdapter current = server.current();
        return new ModelList("list", List.of(
                new ModelCard(server.servedModel(), "model", created, "tuneloop", "promoted adapter: "
                        + current.describe()),
                new ModelCard(server.baseModelName(), "model", created, "tuneloop", "the base model, no adapter")));
    }

    @RolesAllowed(Roles.CLIENT)
    @POST
    @Path("/chat/completions")
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    public Response chat(ChatRequest request) {
        if (request == null) {
            throw InvalidRequestException.field("messages", "the body must be a JSON object with model and messages");
        }
        ModelServer server = runtime.server();
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (!request.streaming()) {
            ChatCompletion completion = timer.time("chat", () -> {
                ModelServer.ChatResult result = server.chat(request.model(), request.toChat(), null).await();
                return new ChatCompletion(id, "chat.completion", created, request.model(),
                        fingerprint(result.adapter()),
                        List.of(new Choice(0, new AssistantMessage("assistant", result.text()), null,
                                reason(result.finishReason()))),
                        new Usage(result.promptTokens(), result.completionTokens(),
                                result.promptTokens() + result.completionTokens()));
            });
            return Response.ok(completion, MediaType.APPLICATION_JSON_TYPE).build();
        }
        long start = System.nanoTime();
        BlockingQueue<String> deltas = new LinkedBlockingQueue<>();
        // Checked and queued here, so a refusal (400/404/429) is a plain HTTP answer, not an event.
        ModelServer.ChatCall call = server.chat(request.model(), request.toChat(), deltas::add);
        String fingerprint = fingerprint(call.adapter());
        StreamingOutput events = out -> {
            String outcome = "ok";
            try {
                send(out, chunk(id, created, request.model(), fingerprint, new Delta("assistant", ""), null));
                while (!call.done()) {
                    String delta = deltas.poll(20, TimeUnit.MILLISECONDS);
                    if (delta != null) {
                        send(out, chunk(id, created, request.model(), fingerprint, new Delta(null, delta), null));
                    }
                }
                ModelServer.ChatResult result = call.await(); // delivers the held-back tail, if any
                for (String delta = deltas.poll(); delta != null; delta = deltas.poll()) {
                    send(out, chunk(id, created, request.model(), fingerprint, new Delta(null, delta), null));
                }
                send(out, chunk(id, created, request.model(), fingerprint, new Delta(null, null),
                        reason(result.finishReason())));
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                outcome = "client_gone";
                call.cancel();
                LOG.info("stream {} ended by the client: {}", id, e.toString());
                throw e;
            } catch (InterruptedException e) {
                outcome = "interrupted";
                call.cancel();
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                outcome = e.getClass().getSimpleName();
                LOG.error("stream {} failed: {}", id, e.toString(), e);
                String error = json.writeValueAsString(new ApiError(new ApiError.Detail("generation failed: "
                        + e.getMessage(), "server_error", null, "generation_failed")));
                out.write(("data: " + error + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } finally {
                timer.record("chat_stream", outcome, System.nanoTime() - start);
            }
        };
        return Response.ok(events, "text/event-stream").header("Cache-Control", "no-cache").build();
    }

    private Chunk chunk(String id, long created, String model, String fingerprint, Delta delta, String finish) {
        return new Chunk(id, "chat.completion.chunk", created, model, fingerprint,
                List.of(new ChunkChoice(0, delta, null, finish)));
    }

    private void send(OutputStream out, Chunk chunk) throws IOException {
        try {
            out.write(("data: " + json.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write chunk " + chunk + " as JSON", e);
        }
        out.flush();
    }

    private static String reason(ModelServer.FinishReason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }

    /** Which adapter answered: {@code tuneloop-gen<N>-<run>-<checkpoint>}, or {@code tuneloop-base}. */
    private static String fingerprint(ServedAdapter adapter) {
        return adapter.isBase() ? "tuneloop-base"
                : "tuneloop-gen" + adapter.generation() + "-" + adapter.runId() + "-" + adapter.promotion().checkpoint();
    }
}
