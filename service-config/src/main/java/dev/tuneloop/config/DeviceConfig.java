package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithParentName;

/**
 * The compute device, {@code tuneloop.device} (environment: {@code TUNELOOP_DEVICE}, the variable the CLI reads too);
 * read by the trainer, the evaluator and the inference service. The mapping's root is the key itself, not
 * {@code tuneloop}: a root of {@code tuneloop} would make every other {@code tuneloop.*} property (such as the
 * {@code tuneloop.shared.dir} system property) an unknown key that fails start-up.
 */
@ConfigMapping(prefix = "tuneloop.device")
public interface DeviceConfig {
    /** DJL device: {@code cpu}, {@code gpu}, {@code gpu1}, … (CPU fp32 is the tested path). */
    @WithParentName
    @WithDefault("cpu")
    String device();
}
