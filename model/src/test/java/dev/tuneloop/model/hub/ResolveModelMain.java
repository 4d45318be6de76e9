package dev.tuneloop.model.hub;

import java.nio.file.Path;

/**
 * What the CLI and the services do with {@code --model owner/name} ({@link ModelLocator#resolveModel}), as a process
 * of its own for tests that limit it (e.g. {@code ulimit -f}): prints the model folder, or the error and exits 1.
 */
public final class ResolveModelMain {
    private ResolveModelMain() {}

    public static void main(String[] args) {
        try {
            Path dir = ModelLocator.resolveModel("--model", args[0], null, null, Progress.silent());
            System.out.println(dir);
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
