package dev.tuneloop.orchestrator.api;

import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.orchestrator.CommandException;
import dev.tuneloop.orchestrator.OrchestratorConfig;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StoragePolicy;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;

/**
 * The body of {@code POST /runs}. Hyper-parameters left out take the configured defaults
 * ({@code tuneloop.orchestrator.defaults.*}).
 *
 * @param runId optional: the run's id, which also makes the request idempotent; a UUID-based id when left out
 * @param modelId base model, a Hugging Face id
 * @param modelRevision base model revision; {@code main} when left out
 * @param trainDataUri {@code s3://<bucket>/<allowed prefix>...} or {@code https://<allow-listed host>/...}
 * @param evalDataUri {@code s3://<bucket>/<allowed prefix>...} or {@code https://<allow-listed host>/...}
 * @param initAdapter optional adapter folder to start from ({@code s3://.../}) instead of a fresh LoRA
 */
public record CreateRunRequest(
        @Pattern(regexp = Api.RUN_ID, message = Api.RUN_ID_MESSAGE) String runId,
        @NotBlank String modelId,
        String modelRevision,
        @NotBlank @Pattern(regexp = DATA_URI, message = DATA_URI_MESSAGE) String trainDataUri,
        @NotBlank @Pattern(regexp = DATA_URI, message = DATA_URI_MESSAGE) String evalDataUri,
        @Valid HyperParametersRequest hyperParameters,
        @Pattern(regexp = "s3://\\S+/", message = "must be an s3:// folder ending with '/'") String initAdapter) {
    static final String DATA_URI = "(s3|https)://\\S+";
    static final String DATA_URI_MESSAGE = "must be an s3:// or https:// URI";

    /**
     * The event this request asks for; a value the contract refuses, or a location outside {@code policy} (another
     * bucket or prefix, an https host not on the allow-list), is a 400 naming the field.
     */
    TrainingRequested toEvent(OrchestratorConfig.HyperParameterDefaults defaults, StoragePolicy policy) {
        checkUri("trainDataUri", trainDataUri, policy);
        checkUri("evalDataUri", evalDataUri, policy);
        if (initAdapter != null) {
            checkUri("initAdapter", initAdapter, policy);
        }
        HyperParametersRequest h = hyperParameters == null ? HyperParametersRequest.EMPTY : hyperParameters;
        HyperParameters merged;
        try {
            merged = h.withDefaults(defaults);
        } catch (IllegalArgumentException e) {
            throw CommandException.invalid("hyperParameters", e.getMessage());
        }
        String revision = modelRevision == null || modelRevision.isBlank() ? "main" : modelRevision;
        return new TrainingRequested(modelId, revision, trainDataUri, evalDataUri, merged, initAdapter);
    }

    private static void checkUri(String field, String value, StoragePolicy policy) {
        try {
            if (value.startsWith(ObjectUri.SCHEME)) {
                policy.requireAllowed(value);
            } else {
                policy.requireAllowedHttps(value);
            }
        } catch (IllegalArgumentException e) {
            throw CommandException.invalid(field, field + ": " + e.getMessage());
        }
    }
}
