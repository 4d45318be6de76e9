package dev.tuneloop.inference.api;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * The error body, in OpenAI's shape so its clients show it: {@code {"error": {"message", "type", "param", "code"}}}.
 * {@code param} names the request field at fault.
 */
public record ApiError(Detail error) {
    public record Detail(String message, String type, String param, String code) {}

    public static Response response(int status, String message, String param, String code) {
        return builder(status, message, param, code).build();
    }

    public static Response.ResponseBuilder builder(int status, String message, String param, String code) {
        String type = switch (status) {
            case 429 -> "rate_limit_error";
            case 503 -> "service_unavailable";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(new Detail(message, type, param, code)));
    }
}
