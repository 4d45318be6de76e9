package dev.tuneloop.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Strict schema validation of manifests by {@code validator/validate.mjs} (node + kubernetes-models, installed with
 * {@code npm ci} from the committed package-lock.json into target/validator). Missing node or npm is a failure,
 * never a skip: without them nothing would be validated.
 */
final class SchemaValidator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] FILES = {"package.json", "package-lock.json", "validate.mjs"};
    private static SchemaValidator installed;

    private final Path work;

    private SchemaValidator(Path work) {
        this.work = work;
    }

    /** The verdict on one manifest. status: valid, invalid or no-schema (kind unknown to the installed models). */
    record Verdict(int index, String apiVersion, String kind, String name, String status, List<String> errors) {
        String label() {
            return kind + "/" + name + " (" + apiVersion + ")";
        }
    }

    /** Copies the validator into target/validator and runs npm ci once per JVM (again only when the lock changed). */
    static synchronized SchemaValidator installed() {
        if (installed == null) {
            Path src = Path.of(System.getProperty("tuneloop.validator.src", "validator")).toAbsolutePath();
            Path work = Path.of(System.getProperty("tuneloop.validator.work", "target/validator")).toAbsolutePath();
            try {
                Files.createDirectories(work);
                boolean lockChanged = !Files.exists(work.resolve("package-lock.json"))
                        || Files.mismatch(src.resolve("package-lock.json"), work.resolve("package-lock.json")) != -1;
                for (String file : FILES) {
                    Files.copy(src.resolve(file), work.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
                if (lockChanged || !Files.exists(work.resolve("node_modules/.package-lock.json"))) {
                    run(work, 300, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
                }
            } catch (IOException e) {
                throw new AssertionError("cannot prepare the schema validator in " + work + ": " + e, e);
            }
            installed = new SchemaValidator(work);
        }
        return installed;
    }

    List<Verdict> validate(List<ObjectNode> manifests) {
        try {
            Path input = Files.createTempFile(work, "manifests-", ".json");
            try {
                JSON.writeValue(input.toFile(), manifests);
                String out = run(work, 120, "node", "validate.mjs", input.toString());
                List<Verdict> verdicts = JSON.readValue(out, new TypeReference<>() {});
                if (verdicts.size() != manifests.size()) {
                    throw new AssertionError("validator returned " + verdicts.size() + " verdicts for "
                            + manifests.size() + " manifests");
                }
                return verdicts;
            } finally {
                Files.deleteIfExists(input);
            }
        } catch (IOException e) {
            throw new AssertionError("schema validation failed to run: " + e, e);
        }
    }

    private static String run(Path dir, long timeoutSeconds, String... command) {
        Process process;
        Path stdout;
        Path stderr;
        try {
            stdout = Files.createTempFile("validator-", ".out");
            stderr = Files.createTempFile("validator-", ".err");
            process = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile())
                    .start();
        } catch (IOException e) {
            throw new AssertionError("cannot run `" + String.join(" ", command) + "`: " + e.getMessage()
                    + ". The chart's schema tests need node (>= 20) and npm on the PATH (PATH="
                    + System.getenv("PATH") + ").", e);
        }
        try {
            process.getOutputStream().close();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("`" + String.join(" ", command) + "` in " + dir + " did not finish in "
                        + timeoutSeconds + " s");
            }
            String out = Files.readString(stdout, StandardCharsets.UTF_8);
            String err = Files.readString(stderr, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new AssertionError("`" + String.join(" ", command) + "` in " + dir + " exited with "
                        + process.exitValue() + ":\n" + err + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("`" + String.join(" ", command) + "` failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", command), e);
        } finally {
            try {
                Files.deleteIfExists(stdout);
                Files.deleteIfExists(stderr);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }

    static List<String> problems(List<Verdict> verdicts, List<String> uncheckedKinds) {
        List<String> problems = new ArrayList<>();
        for (Verdict v : verdicts) {
            if ("invalid".equals(v.status())) {
                problems.add(v.label() + ": " + String.join("; ", v.errors()));
            } else if ("no-schema".equals(v.status()) && !uncheckedKinds.contains(v.apiVersion() + "/" + v.kind())) {
                problems.add(v.label() + ": no schema for this kind, and it is not listed as unchecked");
            } else if (!"valid".equals(v.status()) && !"no-schema".equals(v.status())) {
                problems.add(v.label() + ": unexpected status " + v.status());
            }
        }
        return problems;
    }
}
