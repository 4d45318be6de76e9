package dev.tuneloop.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One in-process run of {@link Main#run} with stdout and stderr captured. */
record CliRun(int exitCode, String out, String err) {
    static synchronized CliRun of(String... argv) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run(argv);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        CliRun run = new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        oldErr.print(run.err); // keep the logs visible in the test report
        return run;
    }

    /** The last stdout line (without its newline); a trailing blank line counts as the last line. */
    String lastLine() {
        String body = out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
        return body.substring(body.lastIndexOf('\n') + 1);
    }

    /** For assertion messages. */
    String describe() {
        return "exit " + exitCode + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
}
