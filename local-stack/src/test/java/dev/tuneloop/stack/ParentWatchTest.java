package dev.tuneloop.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child JVM with the agent ends when its parent's end of the stdin pipe closes, as when the parent is killed. */
class ParentWatchTest {
    @TempDir
    Path dir;

    /** A program that would run for ten minutes and runs a shutdown hook. */
    public static final class Sleeper {
        public static void main(String[] args) throws InterruptedException {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
            System.out.println("sleeping");
            Thread.sleep(600_000);
        }
    }

    @Test
    void theChildExitsThroughItsShutdownHooksWhenTheParentGoes() throws Exception {
        Path agent = ParentWatch.agentJar(dir);
        ChildJvm child = ChildJvm.start("sleeper", agent,
                List.of("-cp", System.getProperty("java.class.path"), Sleeper.class.getName()), Map.of(),
                dir.resolve("sleeper.log"));
        try {
            assertFalse(child.awaitExit(Duration.ofSeconds(2)), "runs while the parent is there:\n"
                    + child.logTail(20));
            child.closeStdin();
            assertTrue(child.awaitExit(Duration.ofSeconds(20)), "exits once the pipe closes:\n" + child.logTail(20));
            assertEquals(0, child.exitCode());
            String log = child.logTail(20);
            assertTrue(log.contains("the parent process is gone") && log.contains("shutdown hook ran"), log);
        } finally {
            child.kill();
        }
    }
}
