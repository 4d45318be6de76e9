package dev.tuneloop.stack;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Main class of the local broker's child JVM: formats the KRaft log directory on first use (a formatted one is left
 * as is, so topics and events survive restarts), then runs {@code kafka.Kafka} in combined broker + controller mode.
 *
 * <p>Arguments: {@code <server.properties> <cluster id>}.
 */
public final class KafkaNode {
    private KafkaNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2 || !Files.isRegularFile(Path.of(args[0]))) {
            System.err.println("usage: KafkaNode <server.properties> <cluster id>");
            System.exit(2);
        }
        int formatted = kafka.tools.StorageTool.execute(
                new String[] {"format", "--ignore-formatted", "-t", args[1], "-c", args[0]}, System.out);
        if (formatted != 0) {
            System.err.println("KafkaNode: formatting the log directory of " + args[0] + " failed with " + formatted);
            System.exit(formatted);
        }
        kafka.Kafka.main(new String[] {args[0]});
    }
}
