package dev.tuneloop.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A Java agent that ends its JVM when the parent goes away, so no child of the stack is orphaned, even when the
 * parent is SIGKILLed. The parent keeps a pipe to the child's stdin open for its whole life; the kernel closes it when
 * the parent dies, the agent's read returns end-of-file and the child exits through its shutdown hooks (as on
 * SIGTERM), or halts {@value #HALT_AFTER_SECONDS} s later if they hang.
 *
 * <p>The agent works for any JVM, including Quarkus fast-jars that we cannot change: {@link #agentJar(Path)} writes
 * a jar with just this class, for {@code -javaagent:}. The children must not read stdin themselves.
 */
public final class ParentWatch {
    static final int HALT_AFTER_SECONDS = 90;
    private static final String CLASS_FILE = "dev/tuneloop/stack/ParentWatch.class";

    private ParentWatch() {}

    /** Agent entry point ({@code Premain-Class}). */
    public static void premain(String args, Instrumentation instrumentation) {
        Thread watcher = new Thread(ParentWatch::watchStdin, "tuneloop-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void watchStdin() {
        byte[] buffer = new byte[256];
        try {
            while (System.in.read(buffer) >= 0) {
                // the parent never writes; anything read is ignored
            }
        } catch (IOException e) {
            // a broken pipe means the same as end-of-file: the parent is gone
        }
        System.err.println("tuneloop: the parent process is gone (stdin closed); shutting down");
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(HALT_AFTER_SECONDS * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.err.println("tuneloop: shutdown took over " + HALT_AFTER_SECONDS + " s; halting");
            Runtime.getRuntime().halt(1);
        }, "tuneloop-parent-watch-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }

    /**
     * Writes the agent jar into {@code dir} (replacing an older one) and returns its path. Works whether this class
     * was loaded from a jar or from a classes folder.
     */
    public static Path agentJar(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path jar = dir.resolve("tuneloop-parent-watch.jar");
        Path tmp = Files.createTempFile(dir, ".parent-watch-", ".jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), ParentWatch.class.getName());
        try (InputStream in = ParentWatch.class.getClassLoader().getResourceAsStream(CLASS_FILE)) {
            if (in == null) {
                throw new IOException("cannot write the parent-watch agent: " + CLASS_FILE + " is not on the classpath");
            }
            try (OutputStream file = Files.newOutputStream(tmp);
                    JarOutputStream out = new JarOutputStream(file, manifest)) {
                out.putNextEntry(new JarEntry(CLASS_FILE));
                in.transferTo(out);
                out.closeEntry();
            }
        }
        Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return jar;
    }
}
