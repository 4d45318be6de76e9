package dev.tuneloop.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The shared keys as a deployment sets them: environment variables only, mapped by SmallRye's standard rules. */
class SharedConfigTest {
    private static final Map<String, String> REQUIRED = Map.of(
            "TUNELOOP_STORAGE_ENDPOINT", "http://minio:9000",
            "TUNELOOP_STORAGE_ACCESS_KEY", "ak",
            "TUNELOOP_STORAGE_SECRET_KEY", "sk");

    private static SmallRyeConfig fromEnvironment(Map<String, String> env) {
        return new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .withConverter(Duration.class, 200, new DurationConverter()) // Quarkus's: "500ms", "10s"
                .withMapping(StorageConfig.class)
                .withMapping(ModelConfig.class)
                .withMapping(DeviceConfig.class)
                .withSources(new EnvConfigSource(env, 300))
                .withDefaultValue("user.home", "/home/app")
                .build();
    }

    @Test
    void everyEnvironmentVariableOfTheContractReachesItsKey() {
        Map<String, String> env = new java.util.HashMap<>(REQUIRED);
        env.putAll(Map.of(
                "TUNELOOP_STORAGE_REGION", "eu-west-1",
                "TUNELOOP_STORAGE_BUCKET", "squad",
                "TUNELOOP_STORAGE_ALLOWED_PREFIXES", "data/,runs/",
                "TUNELOOP_MODEL_LOCATION", "tiny",
                "TUNELOOP_MODEL_ID", "Qwen/Qwen2.5-1.5B-Instruct",
                "TUNELOOP_MODEL_REVISION", "v2",
                "TUNELOOP_MODEL_TOKENIZER_DIR", "/shared/tok",
                "TUNELOOP_MODEL_CACHE_DIR", "/cache",
                "TUNELOOP_DEVICE", "gpu1"));
        SmallRyeConfig config = fromEnvironment(env);

        StorageConfig storage = config.getConfigMapping(StorageConfig.class);
        assertEquals("http://minio:9000", storage.endpoint());
        assertEquals("ak", storage.accessKey());
        assertEquals("sk", storage.secretKey());
        assertEquals(Optional.of("eu-west-1"), storage.region());
        assertEquals("squad", storage.bucket());
        assertEquals(List.of("data/", "runs/"), storage.allowedPrefixes());

        ModelConfig model = config.getConfigMapping(ModelConfig.class);
        assertEquals("tiny", model.location());
        assertEquals("Qwen/Qwen2.5-1.5B-Instruct", model.id());
        assertEquals("v2", model.revision());
        assertEquals(Optional.of(Path.of("/shared/tok")), model.tokenizerDir());
        assertEquals(Path.of("/cache"), model.cacheDir());

        assertEquals("gpu1", config.getConfigMapping(DeviceConfig.class).device());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        SmallRyeConfig config = fromEnvironment(REQUIRED);
        StorageConfig storage = config.getConfigMapping(StorageConfig.class);
        assertEquals(Optional.empty(), storage.region());
        assertEquals("tuneloop", storage.bucket());
        assertEquals(List.of("datasets/", "runs/"), storage.allowedPrefixes());

        ModelConfig model = config.getConfigMapping(ModelConfig.class);
        assertEquals("Qwen/Qwen2.5-0.5B-Instruct", model.location());
        assertEquals("Qwen/Qwen2.5-0.5B-Instruct", model.id());
        assertEquals("main", model.revision());
        assertEquals(Optional.empty(), model.tokenizerDir());
        assertEquals(Path.of("/home/app/.cache/tuneloop"), model.cacheDir());

        assertEquals("cpu", config.getConfigMapping(DeviceConfig.class).device());
    }

    @Test
    void otherTuneloopPropertiesAreNoUnknownKeysOfTheSharedMappings() {
        // SmallRye refuses unknown properties under a mapping's root; tuneloop.device must not claim all of tuneloop.*
        Map<String, String> env = new java.util.HashMap<>(REQUIRED);
        env.put("TUNELOOP_DEVICE", "gpu");
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withConverter(Duration.class, 200, new DurationConverter())
                .withMapping(StorageConfig.class)
                .withMapping(ModelConfig.class)
                .withMapping(DeviceConfig.class)
                .withValidateUnknown(true)
                .withSources(new EnvConfigSource(env, 300))
                .withSources(new io.smallrye.config.PropertiesConfigSource(
                        Map.of("tuneloop.shared.dir", "../shared", "tuneloop.trainer.work-dir", "/tmp/w"), "test", 400))
                .build();
        assertEquals("gpu", config.getConfigMapping(DeviceConfig.class).device());
    }

    @Test
    void aMissingEndpointFailsNamingTheKey() {
        Map<String, String> env = new java.util.HashMap<>(REQUIRED);
        env.remove("TUNELOOP_STORAGE_ENDPOINT");
        Exception e = assertThrows(RuntimeException.class, () -> fromEnvironment(env));
        String messages = messageChain(e);
        assertTrue(messages.contains("tuneloop.storage.endpoint"), messages);
    }

    private static String messageChain(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t.getMessage()).append(" / ");
            for (Throwable s : t.getSuppressed()) {
                b.append(s.getMessage()).append(" / ");
            }
        }
        return b.toString();
    }

}
