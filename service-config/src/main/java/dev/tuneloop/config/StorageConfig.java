package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/**
 * The object store every service uses, under {@code tuneloop.storage.*} (environment: {@code TUNELOOP_STORAGE_*}).
 * Runs, checkpoints and adapters live in {@link #bucket()}; see docs/storage-layout.md.
 */
@ConfigMapping(prefix = "tuneloop.storage")
public interface StorageConfig {
    /** {@code http(s)://host:port} of the S3 API (MinIO, S3Proxy, AWS). Required. */
    String endpoint();

    /** Required; from a Secret in a deployment. */
    String accessKey();

    /** Required; from a Secret in a deployment. */
    String secretKey();

    /** Signing region; default {@code us-east-1}. */
    Optional<String> region();

    /** The bucket holding datasets, runs and adapters. */
    @WithDefault("tuneloop")
    String bucket();

    /**
     * Key prefixes in {@link #bucket()} that data, checkpoint and run locations of an event must start with (each
     * ending with '/'); the workers refuse anything else. The orchestrator and the inference service do not read it.
     */
    @WithDefault("datasets/,runs/")
    List<String> allowedPrefixes();
}
