package dev.tuneloop.inference.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.inference.InferenceConfig;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Bodies larger than {@code tuneloop.inference.limits.max-body-bytes} get 413 naming the limit, before they are read
 * (by their Content-Length). A chunked body without a length is cut by {@code quarkus.http.limits.max-body-size},
 * set to the same value.
 */
@ApplicationScoped
public class BodyLimit {
    void install(@Observes Router router, InferenceConfig config, ObjectMapper json) {
        long limit = config.limits().maxBodyBytes();
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            String header = ctx.request().getHeader("Content-Length");
            long length;
            try {
                length = header == null ? -1 : Long.parseLong(header.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length > limit) {
                String message = "the request body has " + length + " bytes, more than the limit max-body-bytes "
                        + limit + " (tuneloop.inference.limits.max-body-bytes)";
                String body;
                try {
                    body = json.writeValueAsString(new ApiError(new ApiError.Detail(message,
                            "invalid_request_error", null, "request_too_large")));
                } catch (Exception e) {
                    body = "{\"error\":{\"message\":\"request body too large\"}}";
                }
                ctx.response().setStatusCode(413).putHeader("Content-Type", "application/json")
                        .putHeader("Connection", "close").end(body);
                return;
            }
            ctx.next();
        });
    }
}
