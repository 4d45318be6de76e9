package dev.tuneloop.orchestrator.api;

import java.util.List;

/**
 * Every error body: {@code {"status": 400, "message": "...", "fieldErrors": [{"field": "hyperParameters.lr",
 * "message": "must be greater than 0"}]}}. Field paths follow the JSON body.
 */
public record ApiError(int status, String message, List<FieldError> fieldErrors) {
    public record FieldError(String field, String message) {}

    static ApiError of(int status, String message) {
        return new ApiError(status, message, List.of());
    }
}
