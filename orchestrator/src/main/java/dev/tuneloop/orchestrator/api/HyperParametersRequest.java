package dev.tuneloop.orchestrator.api;

import dev.tuneloop.contracts.HyperParameters;
import dev.tuneloop.orchestrator.OrchestratorConfig;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.util.List;

/**
 * Hyper-parameters of {@code POST /runs}, each optional; see {@link HyperParameters} for their meaning. The bounds are
 * the trainer's ({@code dev.tuneloop.model.train.TrainConfig}), so a request the trainer would refuse is a 400 here
 * rather than a failed run later.
 */
public record HyperParametersRequest(
        @Min(1) @Max(1000) Integer epochs,
        @Positive @DecimalMax("1") Double lr,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double warmupRatio,
        @PositiveOrZero @DecimalMax(value = "1", inclusive = false) Double weightDecay,
        @Positive Double maxGradNorm,
        @Min(1) @Max(1024) Integer batchSize,
        @Min(1) @Max(1024) Integer gradAccum,
        @Min(1) @Max(1024) Integer loraR,
        @Min(1) Integer loraAlpha,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double loraDropout,
        @Size(min = 1) List<@NotBlank @Pattern(regexp = MODULES, message = MODULES_MESSAGE) String> targetModules,
        @Min(16) @Max(32768) Integer maxSeqLen,
        @Min(0) Integer saveEveryEpochs,
        @Min(0) Integer saveEverySteps,
        @Min(0) Integer evalLimit,
        @Pattern(regexp = PROMPT_MODES, message = "must be context or question-only") String promptMode,
        Long seed) {
    /** The projections LoRA can adapt (PEFT names). */
    static final String MODULES = "q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj";
    static final String MODULES_MESSAGE =
            "must be one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj";
    static final String PROMPT_MODES = "context|question-only";

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
