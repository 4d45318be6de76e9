package dev.tuneloop.stack;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What LocalStack refuses before it starts anything. */
class LocalStackTest {
    @TempDir
    Path dir;

    @Test
    void twoStacksNeverShareAStateFolder() throws Exception {
        Path state = dir.resolve("stack");
        Files.createDirectories(state);
        List<String> said = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(state.resolve("stack.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
                FileLock held = channel.lock()) {
            IOException e = assertThrows(IOException.class, () -> LocalStack.start(
                    LocalStack.Options.local(state, dir, StackModel.tiny(sharedDir(), dir.resolve("cache"))),
                    said::add));
            assertTrue(e.getMessage().contains("another stack runs on " + state.toAbsolutePath()), e.getMessage());
            assertTrue(said.isEmpty(), "nothing was started: " + said);
        }
    }

    @Test
    void missingServiceJarsNameTheBuildThatMakesThem() throws Exception {
        Path agent = ParentWatch.agentJar(dir.resolve("run"));
        ServiceProcess.Spec spec = new ServiceProcess.Spec("orchestrator", StackService.ORCHESTRATOR.jar(dir),
                java.util.Map.of(), List.of(), java.util.Map.of());
        IOException e = assertThrows(IOException.class,
                () -> ServiceProcess.start(spec, 0, agent, dir.resolve("orchestrator.log")));
        assertTrue(e.getMessage().contains(dir.resolve("orchestrator/target/quarkus-app/quarkus-run.jar")
                + " does not exist; build the services first"), e.getMessage());
    }

    private static Path sharedDir() {
        return Path.of(System.getProperty("tuneloop.shared.dir", "../../shared"));
    }
}
