package dev.tuneloop.stack;

import dev.tuneloop.storage.StorageSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The four services of a stack: where their fast-jar is and how the stack configures them. */
public enum StackService {
    ORCHESTRATOR("orchestrator", "512m"),
    TRAINER("trainer-worker", "1g"),
    EVALUATOR("eval-worker", "1g"),
    INFERENCE("inference-service", "1g");

    private final String module;
    private final String heap;

    StackService(String module, String heap) {
        this.module = module;
        this.heap = heap;
    }

    /** The Maven module, also the service's name in logs and URLs. */
    public String module() {
        return module;
    }

    /** {@code <repo>/<module>/target/quarkus-app/quarkus-run.jar} */
    public Path jar(Path repoDir) {
        return repoDir.resolve(module).resolve("target").resolve("quarkus-app").resolve("quarkus-run.jar");
    }

    /**
     * The service's configuration in a stack: Kafka, the object store and the base model under the shared keys
     * ({@code kafka.bootstrap.servers}, {@code tuneloop.storage.*}, {@code tuneloop.model.*}, {@code tuneloop.device}),
     * scratch space under {@code workDir}, API authentication off (local use, 127.0.0.1 only). Tensors live outside the Java heap, so the heap stays small.
     */
    public ServiceProcess.Spec spec(Path repoDir, String kafka, StorageSettings storage, StackModel model,
            Path workDir) {
        Map<String, String> config = new TreeMap<>();
        config.put("kafka.bootstrap.servers", kafka);
        config.put("tuneloop.storage.endpoint", storage.endpoint());
        config.put("tuneloop.storage.access-key", storage.accessKey());
        config.put("tuneloop.storage.secret-key", storage.secretKey());
        config.put("tuneloop.storage.region", storage.region());
        config.put("tuneloop.storage.bucket", storage.bucket());
        Path work = workDir.resolve(module).toAbsolutePath();
        switch (this) {
            case ORCHESTRATOR -> localAuth(config);
            case TRAINER -> {
                modelKeys(config, model);
                config.put("tuneloop.trainer.work-dir", work.toString());
                // a progress event every 2 s (default 10 s): the demo and GET /runs/{id} follow training closely
                config.put("tuneloop.trainer.messaging.progress-interval", "2s");
            }
            case EVALUATOR -> {
                modelKeys(config, model);
                config.put("tuneloop.evaluator.work-dir", work.toString());
            }
            case INFERENCE -> {
                modelKeys(config, model);
                config.put("tuneloop.inference.work-dir", work.toString());
                localAuth(config);
            }
        }
        return new ServiceProcess.Spec(module, jar(repoDir), config, List.of("-Xmx" + heap, "-XX:+UseSerialGC"),
                Map.of());
    }

    /**
     * The explicit local-use switch of docs/security.md: a stack's services listen on 127.0.0.1 only, for the user who
     * started them, so their APIs take no bearer token. A deployment never sets it.
     */
    private static void localAuth(Map<String, String> config) {
        config.put("tuneloop.auth.enabled", "false");
    }

    private static void modelKeys(Map<String, String> config, StackModel model) {
        config.put("tuneloop.model.location", model.location());
        config.put("tuneloop.model.id", model.id());
        config.put("tuneloop.model.revision", model.revision());
        config.put("tuneloop.model.cache-dir", model.cacheDir().toString());
        if (model.tokenizerDir() != null) {
            config.put("tuneloop.model.tokenizer-dir", model.tokenizerDir().toString());
        }
        config.put("tuneloop.device", "cpu");
    }
}
