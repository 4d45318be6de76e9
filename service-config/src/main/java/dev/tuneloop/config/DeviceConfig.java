package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The compute device, {@code tuneloop.device} (environment: {@code TUNELOOP_DEVICE}, the variable the CLI reads too);
 * read by the trainer, the evaluator and the inference service.
 */
@ConfigMapping(prefix = "tuneloop")
public interface DeviceConfig {
    /** DJL device: {@code cpu}, {@code gpu}, {@code gpu1}, … (CPU fp32 is the tested path). */
    @WithDefault("cpu")
    String device();
}
