package dev.tuneloop.cli;

import java.util.Arrays;

/**
 * {@code tuneloop bench <target>}: {@code model} (training and inference speed of the model core on this machine),
 * {@code memory} (peak RSS of training), {@code serve} (serving latency, tokens/s, adapter swaps).
 */
final class BenchCommand {
    static final String USAGE = "bench model [--config PATH | --quick] | bench memory [--batch 4 --seq 384]"
            + " | bench serve [--config PATH | --quick] [--clients 8]";

    private BenchCommand() {}

    public static int run(String[] argv) throws Exception {
        if (argv.length == 0 || argv[0].startsWith("--")) {
            throw new Args.UsageException("bench: name a target first (usage: " + USAGE + ")");
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        return switch (argv[0]) {
            case "model" -> ModelBench.run(rest);
            case "memory" -> ModelBench.memory(rest);
            case "serve" -> ServeBench.run(rest);
            default -> throw new Args.UsageException("bench: unknown target '" + argv[0] + "' (known: model, memory, serve; usage: "
                    + USAGE + ")");
        };
    }
}
