package dev.tuneloop.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Entry point of {@code ./tuneloop}: one verb per command class, each a {@code static int run(String[] args)}. */
public final class Main {
    interface Verb {
        int run(String[] args) throws Exception;
    }

    private static final Map<String, Verb> VERBS = new LinkedHashMap<>();
    private static final Map<String, String> HELP = new LinkedHashMap<>();

    static {
        // verbs are registered here, one line each
        verb("demo", "the whole system end to end: stack up, train, evaluate, promote, answer, stop", DemoCommand::run);
        verb("stack", "stack up: Kafka, S3 and the four services on this machine until Ctrl-C", StackCommand::run);
        verb("train", "LoRA fine-tuning on SQuAD-style data (a fresh LoRA or --init-adapter DIR), checkpoints, eval,"
                + " report", TrainCommand::run);
        verb("dump", "logits, loss and LoRA gradients of a batch, as safetensors", DumpCommand::run);
        verb("generate", "greedy continuation of token ids or raw text", GenerateCommand::run);
        verb("bench", "speed of this machine: bench model (training, prefill, decode vs. GEMM and bandwidth)",
                BenchCommand::run);
        verb("tiny-model", "write a tiny random Qwen2 with the real tokenizer (pipelines in seconds)",
                TinyModelCommand::run);
        verb("squad-eval", "official SQuAD v1.1 EM/F1 of a predictions file", SquadEvalCommand::run);
        verb("evaluate", "answer a SQuAD dataset (base model or adapter): predictions file and EM/F1",
                EvaluateCommand::run);
        verb("answer", "answer one question (with its passage) with the base model or an adapter", AnswerCommand::run);
        verb("inspect", "module tree, LoRA placement, trainable params, and the first example as tokens",
                InspectCommand::run);
    }

    private static void verb(String name, String help, Verb verb) {
        VERBS.put(name, verb);
        HELP.put(name, help);
    }

    private Main() {}

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            usage();
            return argv.length == 0 ? 2 : 0;
        }
        Verb verb = VERBS.get(argv[0]);
        if (verb == null) {
            System.err.println("tuneloop: unknown command '" + argv[0] + "'");
            usage();
            return 2;
        }
        try {
            return verb.run(Arrays.copyOfRange(argv, 1, argv.length));
        } catch (Args.UsageException e) {
            System.err.println("tuneloop " + e.getMessage());
            return 2;
        } catch (Exception | Error e) {
            System.err.println("tuneloop " + argv[0] + ": error: " + describe(e));
            if (System.getenv("TUNELOOP_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    /** The message chain of an error, outermost first, without a stack trace (set TUNELOOP_DEBUG=1 for one). */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
            if (sb.indexOf(m) < 0) {
                sb.append(sb.length() == 0 ? "" : ": ").append(m);
            }
        }
        return sb.toString();
    }

    private static void usage() {
        System.err.println("usage: tuneloop <command> [options]\n\ncommands:");
        HELP.forEach((name, help) -> System.err.printf("  %-12s %s%n", name, help));
    }
}
