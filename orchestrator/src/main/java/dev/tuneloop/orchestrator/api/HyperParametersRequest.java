package dev.tuneloop.orchestrator.api;

import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.orchestrator.OrchestratorConfig;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.util.List;

/** Hyper-parameters of {@code POST /runs}, each optional; see {@link HyperParameters} for their meaning. */
public record HyperParametersRequest(
        @Min(1) Integer epochs,
        @Positive Double lr,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double warmupRatio,
        @PositiveOrZero Double weightDecay,
        @Positive Double maxGradNorm,
        @Min(1) Integer batchSize,
        @Min(1) Integer gradAccum,
        @Min(1) Integer loraR,
        @Min(1) Integer loraAlpha,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double loraDropout,
        @Size(min = 1) List<@NotBlank String> targetModules,
        @Min(1) Integer maxSeqLen,
        @Min(0) Integer saveEveryEpochs,
        @Min(0) Integer saveEverySteps,
        @Min(0) Integer evalLimit,
        @Pattern(regexp = ".*\\S.*", message = "must not be blank") String promptMode,
        Long seed) {
    static final HyperParametersRequest EMPTY = new HyperParametersRequest(null, null, null, null, null, null, null,
            null, null, null, null, null, null, null, null, null, null);

    HyperParameters withDefaults(OrchestratorConfig.HyperParameterDefaults d) {
        return new HyperParameters(
                or(epochs, d.epochs()), or(lr, d.lr()), or(warmupRatio, d.warmupRatio()),
                or(weightDecay, d.weightDecay()), or(maxGradNorm, d.maxGradNorm()), or(batchSize, d.batchSize()),
                or(gradAccum, d.gradAccum()), or(loraR, d.loraR()), or(loraAlpha, d.loraAlpha()),
                or(loraDropout, d.loraDropout()), or(targetModules, d.targetModules()), or(maxSeqLen, d.maxSeqLen()),
                or(saveEveryEpochs, d.saveEveryEpochs()), or(saveEverySteps, d.saveEverySteps()),
                or(evalLimit, d.evalLimit()), or(promptMode, d.promptMode()), or(seed, d.seed()));
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
