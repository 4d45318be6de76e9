package dev.tuneloop.contracts;

import java.util.List;

/**
 * Training settings of a run, mirroring the trainer's configuration field by field.
 *
 * @param epochs passes over the training data, >= 1
 * @param lr peak learning rate
 * @param warmupRatio fraction of the optimizer steps spent warming up, in [0, 1)
 * @param weightDecay AdamW weight decay, >= 0
 * @param maxGradNorm global gradient-norm clip, > 0
 * @param batchSize examples per micro-batch
 * @param gradAccum micro-batches per optimizer step
 * @param loraR LoRA rank
 * @param loraAlpha LoRA alpha (scaling is alpha / r)
 * @param loraDropout dropout on the LoRA input, in [0, 1)
 * @param targetModules projection names to adapt, e.g. {@code q_proj}
 * @param maxSeqLen longest tokenized example kept
 * @param saveEveryEpochs save a checkpoint every N epochs; 0 = never by epoch
 * @param saveEverySteps save a checkpoint every N optimizer steps; 0 = never by step
 * @param evalLimit evaluate on at most N examples; 0 = all
 * @param promptMode how examples are rendered into prompts (a name the trainer defines, e.g. {@code chat})
 * @param seed seed for shuffling, dropout and initialisation
 */
public record HyperParameters(
        int epochs,
        double lr,
        double warmupRatio,
        double weightDecay,
        double maxGradNorm,
        int batchSize,
        int gradAccum,
        int loraR,
        int loraAlpha,
        double loraDropout,
        List<String> targetModules,
        int maxSeqLen,
        int saveEveryEpochs,
        int saveEverySteps,
        int evalLimit,
        String promptMode,
        long seed) {
    private static final String R = "HyperParameters";

    public HyperParameters {
        Check.atLeast(R, "epochs", epochs, 1);
        if (!(Double.isFinite(lr) && lr > 0)) {
            throw new IllegalArgumentException(R + ".lr must be a finite number > 0, got " + lr);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new IllegalArgumentException(R + ".warmupRatio must be in [0, 1), got " + warmupRatio);
        }
        Check.range(R, "weightDecay", weightDecay, 0, Double.MAX_VALUE);
        if (!(Double.isFinite(maxGradNorm) && maxGradNorm > 0)) {
            throw new IllegalArgumentException(R + ".maxGradNorm must be a finite number > 0, got " + maxGradNorm);
        }
        Check.atLeast(R, "batchSize", batchSize, 1);
        Check.atLeast(R, "gradAccum", gradAccum, 1);
        Check.atLeast(R, "loraR", loraR, 1);
        Check.atLeast(R, "loraAlpha", loraAlpha, 1);
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException(R + ".loraDropout must be in [0, 1), got " + loraDropout);
        }
        Check.present(R, "targetModules", targetModules);
        if (targetModules.isEmpty()) {
            throw new IllegalArgumentException(R + ".targetModules must name at least one module");
        }
        for (String module : targetModules) {
            Check.text(R, "targetModules[]", module);
        }
        targetModules = List.copyOf(targetModules);
        Check.atLeast(R, "maxSeqLen", maxSeqLen, 1);
        Check.atLeast(R, "saveEveryEpochs", saveEveryEpochs, 0);
        Check.atLeast(R, "saveEverySteps", saveEverySteps, 0);
        Check.atLeast(R, "evalLimit", evalLimit, 0);
        Check.text(R, "promptMode", promptMode);
    }
}
