package dev.tuneloop.model.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The content of a run's {@code metrics.jsonl}, read while the run may still be appending to it.
 *
 * <p>Train lines are keyed by step (a step logged twice, e.g. after a resume, keeps its last line) and sorted by step;
 * evaluations are sorted by step, file order within a step. An incomplete last line (no newline and not valid JSON) is
 * the line being written and is skipped; any other unreadable line is kept in {@link #problems()} so that the report
 * shows it. Lines of an unknown {@code type} are ignored (later versions may add types).
 *
 * @param train        logged optimizer steps, ascending by step
 * @param evals        evaluations including the baseline, ascending by step
 * @param bestCheckpoint checkpoint named by the last {@code "type":"best"} line, or {@code null}
 * @param nonFiniteLoss train lines whose loss is NaN, infinite or missing
 * @param problems     one message per unreadable line ({@code "line 7: ..."})
 */
public record RunMetrics(List<TrainPoint> train, List<EvalPoint> evals, String bestCheckpoint, int nonFiniteLoss,
        List<String> problems) {

    public static final String BASELINE = "baseline";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    public record TrainPoint(long step, double epoch, double loss, double lr, double tokensPerSecond) {
    }

    /** EM and F1 on the 0–100 scale; {@code n} is the number of evaluated questions (-1 when not logged). */
    public record EvalPoint(String checkpoint, long step, double epoch, double exactMatch, double f1, long n) {
        public boolean isBaseline() {
            return BASELINE.equals(checkpoint);
        }
    }

    public RunMetrics {
        train = List.copyOf(train);
        evals = List.copyOf(evals);
        problems = List.copyOf(problems);
    }

    /** Reads {@code file}; a file that does not exist yet reads as a run with no data. */
    public static RunMetrics read(Path file) throws IOException {
        String text;
        try {
            // Decoding leniently: the writer may be in the middle of a multi-byte character.
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return new RunMetrics(List.of(), List.of(), null, 0, List.of());
        }
        TreeMap<Long, TrainPoint> train = new TreeMap<>();
        List<EvalPoint> evals = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        String best = null;
        int nonFinite = 0;
        boolean endsWithNewline = text.endsWith("\n");
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            boolean beingWritten = i == lines.length - 1 && !endsWithNewline;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                if (!beingWritten) {
                    problems.add("line " + (i + 1) + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                continue;
            }
            String where = "line " + (i + 1) + ": ";
            if (node == null || !node.isObject()) {
                problems.add(where + "expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType()));
                continue;
            }
            String type = node.path("type").asText("");
            if (!type.equals("train") && !type.equals("eval") && !type.equals("best")) {
                if (type.isEmpty()) {
                    problems.add(where + "no \"type\" field");
                }
                continue;
            }
            if (type.equals("best")) {
                String checkpoint = node.path("checkpoint").asText("");
                if (checkpoint.isEmpty()) {
                    problems.add(where + "\"best\" line without a \"checkpoint\"");
                } else {
                    best = checkpoint;
                }
                continue;
            }
            JsonNode stepNode = node.get("step");
            if (stepNode == null || !stepNode.canConvertToLong() || stepNode.asLong() < 0) {
                problems.add(where + "\"" + type + "\" line needs a non-negative integer \"step\", got " + stepNode);
                continue;
            }
            long step = stepNode.asLong();
            if (type.equals("train")) {
                double loss = number(node, "loss");
                if (!Double.isFinite(loss)) {
                    nonFinite++;
                }
                train.put(step, new TrainPoint(step, number(node, "epoch"), loss, number(node, "lr"),
                        number(node, "tokens_per_s")));
            } else {
                String checkpoint = node.path("checkpoint").asText("");
                JsonNode n = node.get("n");
                evals.add(new EvalPoint(checkpoint.isEmpty() ? "step-" + step : checkpoint, step,
                        number(node, "epoch"), number(node, "exact_match"), number(node, "f1"),
                        n != null && n.canConvertToLong() ? n.asLong() : -1));
            }
        }
        evals.sort(Comparator.comparingLong(EvalPoint::step)); // stable: file order within a step
        return new RunMetrics(new ArrayList<>(train.values()), evals, best, nonFinite, problems);
    }

    /** The last evaluation named {@value #BASELINE}. */
    public Optional<EvalPoint> baseline() {
        EvalPoint found = null;
        for (EvalPoint e : evals) {
            if (e.isBaseline()) {
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The checkpoint named by the last {@code best} line when it was evaluated (its last evaluation), otherwise the
     * non-baseline evaluation with the highest F1, the earliest on ties.
     */
    public Optional<EvalPoint> best() {
        if (bestCheckpoint != null) {
            EvalPoint named = null;
            for (EvalPoint e : evals) {
                if (e.checkpoint().equals(bestCheckpoint)) {
                    named = e;
                }
            }
            if (named != null) {
                return Optional.of(named);
            }
        }
        EvalPoint best = null;
        for (EvalPoint e : evals) {
            if (!e.isBaseline() && Double.isFinite(e.f1()) && (best == null || e.f1() > best.f1())) {
                best = e;
            }
        }
        return Optional.ofNullable(best);
    }

    public boolean isEmpty() {
        return train.isEmpty() && evals.isEmpty();
    }

    /** A number field: JSON numbers, NaN/Infinity literals and numeric strings ("NaN") are read; anything else NaN. */
    private static double number(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null) {
            return Double.NaN;
        }
        if (value.isNumber()) {
            return value.doubleValue();
        }
        if (value.isTextual()) {
            try {
                return Double.parseDouble(value.textValue().strip());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }
}
