package dev.tuneloop.inference.api;

import dev.tuneloop.contracts.JsonPaths;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.tuneloop.inference.Batcher;
import dev.tuneloop.inference.InferenceConfig;
import dev.tuneloop.inference.InferenceRuntime;
import dev.tuneloop.inference.InvalidRequestException;
import dev.tuneloop.security.AuthErrors;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every refusal as an {@link ApiError} naming the field; overload and start-up as 429/503 with Retry-After. */
public class ErrorMappers {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMappers.class);
    private static final String NOT_READY_RETRY_SECONDS = "5";

    private final InferenceConfig config;

    public ErrorMappers(InferenceConfig config) {
        this.config = config;
    }

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        String code = e.status() == 404 ? "model_not_found" : e.status() == 413 ? "request_too_large" : null;
        return ApiError.response(e.status(), e.getMessage(), e.param(), code);
    }

    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e) {
        String field = JsonPaths.of(e);
        return ApiError.response(400, "unknown field '" + field + "'; known fields here: " + e.getKnownPropertyIds(),
                field, "unknown_field");
    }

    @ServerExceptionMapper
    public Response mismatched(MismatchedInputException e) {
        return badJson(e);
    }

    @ServerExceptionMapper
    public Response badJson(JsonMappingException e) {
        String field = JsonPaths.of(e);
        String detail = e.getCause() instanceof IllegalArgumentException iae ? iae.getMessage() : e.getOriginalMessage();
        return ApiError.response(400, "invalid value of " + (field.isEmpty() ? "the body" : field) + ": "
                + firstLine(detail), field.isEmpty() ? null : field, "invalid_value");
    }

    @ServerExceptionMapper
    public Response notJson(JsonParseException e) {
        return ApiError.response(400, "the body is not valid JSON: " + firstLine(e.getOriginalMessage()), null,
                "invalid_json");
    }

    /**
     * Quarkus wraps what Jackson cannot read at all (invalid UTF-8, a number too large for its field, nesting deeper
     * than Jackson's limit) in an empty 400; this names the problem and, where the parser was inside one, the field.
     * Other web exceptions keep their own response.
     */
    @ServerExceptionMapper
    public Response unreadable(WebApplicationException e) {
        if (!(e.getCause() instanceof JsonProcessingException json)) {
            return e.getResponse();
        }
        String field = json.getProcessor() instanceof JsonParser p ? JsonPaths.of(p.getParsingContext()) : "";
        return ApiError.response(400, "the body is not valid JSON: " + firstLine(json.getOriginalMessage()),
                field.isEmpty() ? null : field, "invalid_json");
    }

    @ServerExceptionMapper
    public Response overloaded(Batcher.OverloadedException e) {
        return ApiError.builder(429, e.getMessage() + "; retry later", null, "overloaded")
                .header("Retry-After", String.valueOf(config.batching().retryAfterSeconds())).build();
    }

    @ServerExceptionMapper
    public Response notReady(InferenceRuntime.NotReadyException e) {
        return ApiError.builder(503, e.getMessage(), null, "not_ready")
                .header("Retry-After", NOT_READY_RETRY_SECONDS).build();
    }

    @ServerExceptionMapper
    public Response stopped(Batcher.StoppedException e) {
        return ApiError.builder(503, e.getMessage(), null, "shutting_down")
                .header("Retry-After", NOT_READY_RETRY_SECONDS).build();
    }

    @ServerExceptionMapper
    public Response failed(IllegalStateException e) {
        LOG.error("request failed: {}", e.toString(), e);
        return ApiError.response(500, "generation failed: " + e.getMessage(), null, "generation_failed");
    }

    @ServerExceptionMapper
    public Response noToken(UnauthorizedException e) {
        return ApiError.builder(401, AuthErrors.MISSING, null, "invalid_api_key")
                .header(AuthErrors.CHALLENGE_HEADER, AuthErrors.CHALLENGE).build();
    }

    @ServerExceptionMapper
    public Response badToken(AuthenticationFailedException e) {
        return ApiError.builder(401, AuthErrors.INVALID, null, "invalid_api_key")
                .header(AuthErrors.CHALLENGE_HEADER, AuthErrors.CHALLENGE).build();
    }

    @ServerExceptionMapper
    public Response wrongRole(ForbiddenException e, ResourceInfo resource) {
        return ApiError.response(403, AuthErrors.forbidden(resource.getResourceMethod()), null, "permission_denied");
    }



    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
