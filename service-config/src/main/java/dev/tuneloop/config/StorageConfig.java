package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
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
     * ending with '/'); the workers refuse anything else, and the orchestrator refuses {@code s3://} locations outside
     * them at {@code POST /runs} (400). The inference service does not read it.
     */
    @WithDefault("datasets/,runs/")
    List<String> allowedPrefixes();

    /**
     * {@code https://} hosts data may also be fetched from (exact host names, or {@code *.example.org}); none by
     * default, so nothing outside the bucket is fetched from inside the cluster. The CLI is not restricted.
     */
    Optional<List<String>> allowedHttpsHosts();

    /**
     * Tries per storage call on a transient failure (connection refused or reset, timeout, HTTP 5xx), with
     * exponential backoff from {@link #retryInitialBackoff()} capped at {@link #retryMaxBackoff()}: by default a
     * call rides out an outage of about 55 s in place before it fails (a trainer then retries its job from the last
     * checkpoint). Read by the trainer and eval workers and the inference service (adapter downloads); the
     * orchestrator's REST calls keep a short retry so a request fails fast.
     */
    @WithDefault("10")
    int retryAttempts();

    @WithDefault("500ms")
    Duration retryInitialBackoff();

    @WithDefault("10s")
    Duration retryMaxBackoff();
}
