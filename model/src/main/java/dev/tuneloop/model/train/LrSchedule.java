package dev.tuneloop.model.train;

/**
 * Linear warm-up from 0 to the peak over {@code warmupSteps}, then cosine decay to 0 at {@code totalSteps} — the
 * schedule of transformers' {@code get_cosine_schedule_with_warmup}. Steps count from 0.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps) {
    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("learning-rate schedule needs peak > 0, warmup >= 0, total > 0; got "
                    + peak + ", " + warmupSteps + ", " + totalSteps);
        }
    }

    public double at(int step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }
}
