package dev.tuneloop.orchestrator.api;

import dev.tuneloop.contracts.JsonPaths;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.tuneloop.orchestrator.CommandException;
import dev.tuneloop.orchestrator.EventLoop;
import dev.tuneloop.orchestrator.messaging.PublishException;
import dev.tuneloop.security.AuthErrors;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import dev.tuneloop.storage.StorageException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Comparator;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns every refusal into an {@link ApiError} body; field paths follow the request's JSON. */
public class ErrorMappers {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMappers.class);

    @ServerExceptionMapper
    public Response violations(ConstraintViolationException e) {
        List<ApiError.FieldError> fields = e.getConstraintViolations().stream()
                .map(v -> new ApiError.FieldError(jsonPath(v), v.getMessage()))
                .sorted(Comparator.comparing(ApiError.FieldError::field))
                .toList();
        return respond(new ApiError(400, "invalid request: " + fields.size() + " field error(s)", fields));
    }

    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e) {
        String field = JsonPaths.of(e);
        return respond(new ApiError(400, "unknown field " + field, List.of(new ApiError.FieldError(field,
                "unknown field '" + e.getPropertyName() + "'; known: " + e.getKnownPropertyIds()))));
    }

    /** Wrong JSON types ({@code "epochs": "two"}); Quarkus' own mapper for these would answer in another shape. */
    @ServerExceptionMapper
    public Response mismatched(MismatchedInputException e) {
        return badJson(e);
    }

    @ServerExceptionMapper
    public Response badJson(JsonMappingException e) {
        String field = JsonPaths.of(e);
        String detail = e.getOriginalMessage();
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException) {
            detail = cause.getMessage();
        }
        return respond(new ApiError(400, "invalid value of " + (field.isEmpty() ? "the body" : field),
                List.of(new ApiError.FieldError(field, firstLine(detail)))));
    }

    @ServerExceptionMapper
    public Response notJson(JsonParseException e) {
        return respond(ApiError.of(400, "the body is not valid JSON: " + firstLine(e.getOriginalMessage())));
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
        String message = "the body is not valid JSON: " + firstLine(json.getOriginalMessage());
        return respond(new ApiError(400, message, field.isEmpty() ? List.of()
                : List.of(new ApiError.FieldError(field, firstLine(json.getOriginalMessage())))));
    }

    @ServerExceptionMapper
    public Response refused(CommandException e) {
        int status = switch (e.kind()) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
        };
        List<ApiError.FieldError> fields =
                e.field() == null ? List.of() : List.of(new ApiError.FieldError(e.field(), e.getMessage()));
        return respond(new ApiError(status, e.getMessage(), fields));
    }

    @ServerExceptionMapper
    public Response notReady(EventLoop.NotReadyException e) {
        return Response.fromResponse(respond(ApiError.of(503, e.getMessage()))).header("Retry-After", "5").build();
    }

    @ServerExceptionMapper
    public Response unpublished(PublishException e) {
        LOG.warn("request failed: {}", e.getMessage());
        return respond(ApiError.of(503, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response storage(StorageException e) {
        LOG.warn("request failed: {}", e.getMessage());
        return respond(ApiError.of(502, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response noToken(UnauthorizedException e) {
        return challenge(respond(ApiError.of(401, AuthErrors.MISSING)));
    }

    @ServerExceptionMapper
    public Response badToken(AuthenticationFailedException e) {
        return challenge(respond(ApiError.of(401, AuthErrors.INVALID)));
    }

    @ServerExceptionMapper
    public Response wrongRole(ForbiddenException e, ResourceInfo resource) {
        return respond(ApiError.of(403, AuthErrors.forbidden(resource.getResourceMethod())));
    }

    private static Response challenge(Response response) {
        return Response.fromResponse(response).header(AuthErrors.CHALLENGE_HEADER, AuthErrors.CHALLENGE).build();
    }

    private static Response respond(ApiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(error).build();
    }

    /** {@code create.body.hyperParameters.lr} → {@code hyperParameters.lr}: only the body's own properties. */
    private static String jsonPath(ConstraintViolation<?> violation) {
        StringBuilder out = new StringBuilder();
        for (Path.Node node : violation.getPropertyPath()) {
            if (node.getKind() == ElementKind.PROPERTY || node.getKind() == ElementKind.CONTAINER_ELEMENT) {
                if (node.getName() != null && !node.getName().startsWith("<")) {
                    out.append(out.length() == 0 ? "" : ".").append(node.getName());
                }
                if (node.getIndex() != null) {
                    out.append('[').append(node.getIndex()).append(']');
                }
            }
        }
        return out.length() == 0 ? "body" : out.toString();
    }



    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
