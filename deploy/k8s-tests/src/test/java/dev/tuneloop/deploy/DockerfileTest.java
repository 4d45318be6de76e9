package dev.tuneloop.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tuneloop.deploy.Dockerfile.Instruction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Static checks of deploy/docker: no Docker engine runs here, so the images are never built in this build. These
 * tests hold the Dockerfiles to what the chart assumes (user id, DJL cache path, offline DJL, image names).
 */
class DockerfileTest {
    private static final Path REPO = Path.of(System.getProperty("tuneloop.repo.dir", "../..")).toAbsolutePath();
    private static final Path DOCKER = REPO.resolve("deploy/docker");
    private static final ObjectMapper YAML = new YAMLMapper();

    private static JsonNode values() throws IOException {
        return YAML.readTree(Chart.tuneloop().dir().resolve("values.yaml").toFile());
    }

    @Test
    void everyImageTheChartDeploysHasADockerfile() throws IOException {
        JsonNode values = values();
        for (String component : List.of("orchestrator", "inference", "trainer", "eval")) {
            String image = values.path(component).path("image").asText();
            assertTrue(image.startsWith("tuneloop-"), image);
            Path file = DOCKER.resolve(image.substring("tuneloop-".length()) + ".Dockerfile");
            assertTrue(Files.isRegularFile(file), component + " deploys " + image + " but there is no " + file);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"orchestrator", "trainer-worker", "eval-worker", "inference-service"})
    void multiStageNonRootAndSizedFromTheContainer(String service) throws IOException {
        Dockerfile dockerfile = Dockerfile.read(DOCKER.resolve(service + ".Dockerfile"));
        int uid = values().path("securityContext").path("runAsUser").asInt();
        assertTrue(dockerfile.stages().containsKey("build"), "multi-stage: a build stage");
        String runtime = service.equals("orchestrator") ? "runtime" : "cpu";
        List<Instruction> stage = dockerfile.stage(runtime);

        assertTrue(Dockerfile.all(stage, "COPY").stream().anyMatch(c -> c.startsWith("--from=build ")),
                "the runtime stage copies the Maven build's output");
        assertTrue(Dockerfile.all(stage, "COPY").stream().noneMatch(c -> c.contains("--chown")),
                "application files stay owned by root");
        assertEquals(List.of(uid + ":" + uid), Dockerfile.all(stage, "USER"),
                "numeric user matching the chart's runAsUser (runAsNonRoot can only verify numeric ids)");
        assertTrue(Dockerfile.all(stage, "RUN").stream().anyMatch(r -> r.contains("--uid " + uid)));
        for (String from : Dockerfile.all(dockerfile.stage(runtime), "FROM")) {
            assertFalse(from.contains("alpine"), "PyTorch natives need glibc: " + from);
        }

        String entrypoint = String.join("", Dockerfile.all(stage, "ENTRYPOINT"));
        assertTrue(entrypoint.startsWith("[\"java\""), "exec form, so java is PID 1 and receives SIGTERM: " + entrypoint);
        String jvm = Dockerfile.env(stage).get("JDK_JAVA_OPTIONS");
        assertTrue(jvm != null && jvm.contains("-XX:MaxRAMPercentage="), "heap from the memory limit: " + jvm);
        assertFalse((jvm + entrypoint).contains("-Xmx"), "a fixed -Xmx ignores the container's memory limit");
        assertEquals("8080", Dockerfile.env(stage).get("QUARKUS_HTTP_PORT"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"trainer-worker", "eval-worker", "inference-service"})
    void djlImagesRunOfflineWithTheirCacheOnAVolumeInCpuAndGpuVariants(String service) throws IOException {
        Dockerfile dockerfile = Dockerfile.read(DOCKER.resolve(service + ".Dockerfile"));
        JsonNode values = values();
        List<Instruction> cpu = dockerfile.stage("cpu");
        Map<String, String> env = Dockerfile.env(cpu);

        assertEquals(values.at("/djl/cacheDir").asText(), env.get("DJL_CACHE_DIR"), "same path as the chart's volume");
        assertTrue(String.join(" ", Dockerfile.all(cpu, "VOLUME")).contains(env.get("DJL_CACHE_DIR")));
        assertTrue(String.join(" ", Dockerfile.all(cpu, "ENTRYPOINT")).contains("\"-Dai.djl.offline=true\""));
        assertEquals("ACTIVE", env.get("OMP_WAIT_POLICY"));
        assertEquals("1000", env.get("GOMP_SPINCOUNT"));
        assertEquals("AUTO,STRICT", env.get("MKL_CBWR"));
        assertEquals("cpu", env.get("TUNELOOP_DEVICE"));
        assertFalse(env.containsKey("PYTORCH_VERSION") || env.containsKey("PYTORCH_FLAVOR"),
                "the CPU image uses the natives jar; PYTORCH_* would force a download");

        List<Instruction> gpu = dockerfile.stage("gpu");
        assertEquals("FROM cpu AS gpu", "FROM " + gpu.get(0).arguments(), "the GPU image extends the CPU one");
        Map<String, String> gpuEnv = Dockerfile.env(gpu);
        assertEquals("gpu", gpuEnv.get("TUNELOOP_DEVICE"));
        assertEquals("/opt/pytorch-natives", gpuEnv.get("PYTORCH_LIBRARY_PATH"));
        assertTrue(Dockerfile.all(gpu, "COPY").stream().anyMatch(c -> c.startsWith("--from=gpu-natives ")));
        String fetch = String.join(" ", Dockerfile.all(dockerfile.stage("gpu-natives"), "RUN"));
        assertTrue(fetch.contains("FetchNatives.java") && fetch.contains("test -f"),
                "natives are fetched at build time and their arrival checked: " + fetch);
        assertEquals(pomProperty("pytorch.native.version"), arg(dockerfile.stage("gpu-natives"), "PYTORCH_VERSION"),
                "CUDA natives of the PyTorch version the build uses");
    }

    @Test
    void fetchNativesCompilesWithoutDjlOnTheClasspath(@TempDir Path out) {
        var compiler = ToolProvider.getSystemJavaCompiler();
        int status = compiler.run(null, null, null, "-d", out.toString(),
                DOCKER.resolve("FetchNatives.java").toString());
        assertEquals(0, status, "deploy/docker/FetchNatives.java must compile (it is run with `java File.java`)");
    }

    @Test
    void buildContextExcludesBuildOutput() throws IOException {
        List<String> ignored = Files.readAllLines(REPO.resolve(".dockerignore"));
        assertTrue(ignored.contains("**/target") && ignored.contains(".git"), ignored.toString());
    }

    private static String arg(List<Instruction> stage, String name) {
        for (String arg : Dockerfile.all(stage, "ARG")) {
            if (arg.startsWith(name + "=")) {
                return arg.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no ARG " + name + "=... in " + stage);
    }

    private static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(REPO.resolve("pom.xml")));
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(m.group(1));
        }
        assertEquals(1, found.size(), "property " + name + " in the parent pom");
        return found.get(0);
    }
}
