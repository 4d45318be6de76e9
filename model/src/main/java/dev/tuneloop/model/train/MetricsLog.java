package dev.tuneloop.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per line, {@code {"type":"train","step","epoch","loss","lr","tokens_per_s"}}
 * per logged step and {@code {"type":"eval","step","epoch","checkpoint","exact_match","f1","n"}} per evaluation.
 */
final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final BufferedWriter out;

    /** Opens for appending, first dropping every line past {@code keepUpToStep} (a resumed run redoes those steps). */
    MetricsLog(Path file, long keepUpToStep) throws IOException {
        this.file = file;
        List<String> kept = new ArrayList<>();
        for (JsonNode line : read(file)) {
            if (line.path("step").asLong() <= keepUpToStep) {
                kept.add(JSON.writeValueAsString(line));
            }
        }
        Files.write(file, kept, StandardCharsets.UTF_8);
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    void train(long step, double epoch, double loss, double lr, double tokensPerS, double gradNorm) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "train").put("step", step).put("epoch", round(epoch)).put("loss", loss).put("lr", lr)
                .put("tokens_per_s", round(tokensPerS)).put("grad_norm", gradNorm);
        write(o);
    }

    void eval(long step, double epoch, String checkpoint, double exactMatch, double f1, int n, String evalSetId) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "eval").put("step", step).put("epoch", round(epoch)).put("checkpoint", checkpoint)
                .put("exact_match", exactMatch).put("f1", f1).put("n", n).put("eval_set_id", evalSetId);
        write(o);
    }

    /** Every complete line of a metrics file (a torn last line, from a killed run, is skipped). */
    static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        if (!Files.exists(file)) {
            return lines;
        }
        for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (s.isBlank()) {
                continue;
            }
            try {
                lines.add(JSON.readTree(s));
            } catch (IOException torn) {
                // only a killed writer produces this; the line is redone
            }
        }
        return lines;
    }

    private void write(ObjectNode o) {
        try {
            out.write(JSON.writeValueAsString(o));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
