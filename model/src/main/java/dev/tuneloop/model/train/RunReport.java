package dev.tuneloop.model.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.model.train.RunMetrics.EvalPoint;
import dev.tuneloop.model.train.RunMetrics.TrainPoint;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The training report of one run: a single self-contained {@code report.html} (inline CSS and SVG, no script, no
 * external reference) built from the run folder's {@code config.json} and {@code metrics.jsonl}. Cheap enough to
 * regenerate after every evaluation; works on a run that has logged nothing yet.
 */
public final class RunReport {
    public static final String FILE_NAME = "report.html";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter GENERATED =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final String LOSS_COLOR = "#2563eb";
    private static final String LR_COLOR = "#7c3aed";
    private static final String F1_COLOR = "#2563eb";
    private static final String EM_COLOR = "#ea580c";
    private static final int MAX_PROBLEMS_SHOWN = 5;

    private RunReport() {
    }

    /** Writes {@code runDir/report.html} atomically (temp file in the same folder, then a move); returns its path. */
    public static Path write(Path runDir) throws IOException {
        return write(runDir, Instant.now());
    }

    static Path write(Path runDir, Instant now) throws IOException {
        Path abs = runDir.toAbsolutePath();
        Path name = abs.getFileName();
        String html = render(name == null ? abs.toString() : name.toString(), readConfig(abs.resolve("config.json")),
                RunMetrics.read(abs.resolve("metrics.jsonl")), now);
        Path target = abs.resolve(FILE_NAME);
        Path tmp = Files.createTempFile(abs, ".report-", ".html.tmp");
        try {
            Files.writeString(tmp, html, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    /** The config object, or {@code null} when the file does not exist (yet). */
    static JsonNode readConfig(Path file) throws IOException {
        JsonNode config;
        try {
            config = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return null;
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (config == null || !config.isObject()) {
            throw new IOException(file + ": expected a JSON object (the training config), got "
                    + (config == null ? "an empty file" : config.getNodeType()));
        }
        return config;
    }

    static String render(String runName, JsonNode config, RunMetrics metrics, Instant now) {
        Map<String, String> flat = config == null ? Map.of() : flatten(config);
        StringBuilder html = new StringBuilder(64 * 1024);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(runName)).append(" · tuneloop report</title>\n")
                .append("<style>").append(CSS).append("</style>\n</head>\n<body>\n<main>\n<header>\n")
                .append("<h1>").append(escape(runName)).append("</h1>\n<p class=\"meta\">")
                .append("model <b>").append(escape(pick(flat, "model", "model_dir", "model_path", "base_model",
                        "model_name", "model_id", "model.name", "model.path", "model.dir"))).append("</b> · ")
                .append("data <b>").append(escape(pick(flat, "data", "train_data", "train_file", "train_path",
                        "dataset", "data.train", "data.path", "train"))).append("</b> · ")
                .append("generated ").append(GENERATED.format(now)).append("</p>\n")
                .append("<p class=\"summary\">").append(summary(metrics)).append("</p>\n</header>\n");
        List<String> notes = notes(config, metrics);
        if (!notes.isEmpty()) {
            html.append("<ul class=\"notes\">");
            notes.forEach(n -> html.append("<li>").append(escape(n)).append("</li>"));
            html.append("</ul>\n");
        }
        html.append("<div class=\"charts\">\n<section class=\"card\"><h2>Training loss</h2>\n")
                .append(lossChart(metrics))
                .append("</section>\n<section class=\"card\"><h2>Learning rate</h2>\n").append(lrChart(metrics))
                .append("</section>\n</div>\n<section class=\"card\"><h2>Exact match and F1 per checkpoint</h2>\n")
                .append(evalChart(metrics)).append("</section>\n<section class=\"card\"><h2>Evaluations</h2>\n")
                .append(evalTable(metrics)).append("</section>\n<section class=\"card\"><h2>Configuration</h2>\n")
                .append(configTable(flat, config != null)).append("</section>\n")
                .append("<footer>tuneloop · regenerated after every evaluation · EM and F1 in %</footer>\n")
                .append("</main>\n</body>\n</html>\n");
        return html.toString();
    }

    private static String summary(RunMetrics m) {
        if (m.isEmpty()) {
            return "No data yet — metrics.jsonl has no complete line so far.";
        }
        List<String> parts = new ArrayList<>();
        Optional<EvalPoint> baseline = m.baseline();
        Optional<EvalPoint> best = m.best();
        String scores = baseline.map(b -> "baseline F1 <b>" + score(b.f1()) + "</b> / EM <b>" + score(b.exactMatch())
                + "</b>").orElse("no baseline");
        scores += best.map(b -> " → best F1 <b>" + score(b.f1()) + "</b> / EM <b>" + score(b.exactMatch())
                + "</b> (" + escape(b.checkpoint())
                + baseline.map(base -> ", " + delta(b.f1() - base.f1()) + " F1").orElse("") + ")")
                .orElse(" → no checkpoint evaluated yet");
        parts.add(scores);
        if (!m.train().isEmpty()) {
            TrainPoint last = m.train().get(m.train().size() - 1);
            parts.add("step <b>" + last.step() + "</b>"
                    + (Double.isFinite(last.epoch()) ? " (epoch " + fixed(last.epoch(), 2) + ")" : ""));
            lastFinite(m.train(), true).ifPresent(loss -> parts.add("final loss <b>" + loss + "</b>"));
            lastFinite(m.train(), false).ifPresent(tps -> parts.add(tps + " tokens/s"));
        }
        return String.join(" · ", parts);
    }

    /** The last finite loss (4 significant digits) or tokens/s (whole number), as text. */
    private static Optional<String> lastFinite(List<TrainPoint> train, boolean loss) {
        for (int i = train.size() - 1; i >= 0; i--) {
            double v = loss ? train.get(i).loss() : train.get(i).tokensPerSecond();
            if (Double.isFinite(v)) {
                return Optional.of(loss ? String.format(Locale.ROOT, "%.4g", v) : fixed(v, 0));
            }
        }
        return Optional.empty();
    }

    private static List<String> notes(JsonNode config, RunMetrics m) {
        List<String> notes = new ArrayList<>();
        if (config == null) {
            notes.add("config.json not found in the run folder.");
        }
        if (!m.problems().isEmpty()) {
            List<String> shown = m.problems().subList(0, Math.min(MAX_PROBLEMS_SHOWN, m.problems().size()));
            notes.add("metrics.jsonl: " + m.problems().size() + " unreadable line(s) skipped — "
                    + String.join("; ", shown) + (m.problems().size() > shown.size() ? "; …" : ""));
        }
        String named = m.bestCheckpoint();
        if (named != null && m.evals().stream().noneMatch(e -> e.checkpoint().equals(named))) {
            notes.add("metrics.jsonl names '" + named + "' as best, but has no evaluation of it; "
                    + "the best F1 among the evaluations is shown instead.");
        }
        return notes;
    }

    private static String lossChart(RunMetrics m) {
        List<TrainPoint> train = m.train();
        String note = m.nonFiniteLoss() == 0 ? "" : "<p class=\"note\">" + m.nonFiniteLoss()
                + " logged step(s) had a non-finite or missing loss (NaN or Infinity) and are not drawn.</p>\n";
        if (train.stream().noneMatch(p -> Double.isFinite(p.loss()))) {
            return placeholder("no data yet") + note;
        }
        return new SvgChart("training loss by step", "step", "loss", 460, 300).integerX()
                .series("loss", LOSS_COLOR, steps(train), train.stream().mapToDouble(TrainPoint::loss).toArray(),
                        false, null)
                .render() + "\n" + note;
    }

    private static String lrChart(RunMetrics m) {
        List<TrainPoint> train = m.train();
        if (train.stream().noneMatch(p -> Double.isFinite(p.lr()))) {
            return placeholder("no data yet");
        }
        return new SvgChart("learning rate by step", "step", "learning rate", 460, 300).integerX()
                .series("learning rate", LR_COLOR, steps(train), train.stream().mapToDouble(TrainPoint::lr).toArray(),
                        false, null)
                .render() + "\n";
    }

    private static double[] steps(List<TrainPoint> train) {
        return train.stream().mapToDouble(TrainPoint::step).toArray();
    }

    private static String evalChart(RunMetrics m) {
        List<EvalPoint> evals = m.evals();
        if (evals.isEmpty()) {
            return placeholder("no evaluation yet");
        }
        double[] x = evals.stream().mapToDouble(EvalPoint::step).toArray();
        String[] tips = evals.stream().map(e -> e.checkpoint() + " · step " + e.step() + " · F1 " + score(e.f1())
                + " · EM " + score(e.exactMatch())).toArray(String[]::new);
        SvgChart chart = new SvgChart("exact match and F1 by checkpoint step", "step", "score (%)", 900, 340)
                .integerX()
                .yBounds(0, 100)
                .yPadding(0.08)
                .series("F1", F1_COLOR, x, evals.stream().mapToDouble(EvalPoint::f1).toArray(), true, tips)
                .series("EM", EM_COLOR, x, evals.stream().mapToDouble(EvalPoint::exactMatch).toArray(), true, tips);
        m.baseline().ifPresent(b -> chart
                .reference("baseline F1 " + score(b.f1()), "baseline", b.f1(), F1_COLOR, b.f1() < b.exactMatch())
                .reference("baseline EM " + score(b.exactMatch()), "baseline", b.exactMatch(), EM_COLOR,
                        b.f1() >= b.exactMatch()));
        m.best().ifPresent(b -> chart.highlight(b.step(), b.f1(), "best: " + b.checkpoint()));
        return chart.render() + "\n";
    }

    private static String evalTable(RunMetrics m) {
        if (m.evals().isEmpty()) {
            return placeholder("no evaluation yet");
        }
        Optional<EvalPoint> baseline = m.baseline();
        EvalPoint best = m.best().orElse(null);
        StringBuilder t = new StringBuilder("<table class=\"evals\">\n<thead><tr><th>checkpoint</th><th>step</th>"
                + "<th>epoch</th><th>EM</th><th>F1</th><th>n</th><th>Δ F1 vs baseline</th></tr></thead>\n<tbody>\n");
        for (EvalPoint e : m.evals()) {
            boolean isBest = e == best;
            String rowClass = isBest ? " class=\"best\"" : e.isBaseline() ? " class=\"baseline\"" : "";
            String d = "—";
            String dClass = "";
            if (!e.isBaseline() && baseline.isPresent() && Double.isFinite(e.f1())) {
                double diff = e.f1() - baseline.get().f1();
                d = delta(diff);
                dClass = diff > 0 ? " up" : diff < 0 ? " down" : "";
            }
            t.append("<tr").append(rowClass).append("><td>").append(escape(e.checkpoint()))
                    .append(isBest ? " <span class=\"badge\">best</span>" : "").append("</td>")
                    .append("<td class=\"num\">").append(e.step()).append("</td>")
                    .append("<td class=\"num\">").append(Double.isFinite(e.epoch()) ? fixed(e.epoch(), 2) : "—")
                    .append("</td><td class=\"num\">").append(score(e.exactMatch()))
                    .append("</td><td class=\"num\">").append(score(e.f1()))
                    .append("</td><td class=\"num\">").append(e.n() >= 0 ? Long.toString(e.n()) : "—")
                    .append("</td><td class=\"num").append(dClass).append("\">").append(d).append("</td></tr>\n");
        }
        return t.append("</tbody>\n</table>\n").toString();
    }

    private static String configTable(Map<String, String> flat, boolean present) {
        if (!present) {
            return placeholder("no config.json yet");
        }
        StringBuilder t = new StringBuilder("<table class=\"config\">\n<tbody>\n");
        flat.forEach((k, v) -> t.append("<tr><th>").append(escape(k)).append("</th><td>").append(escape(v))
                .append("</td></tr>\n"));
        return t.append("</tbody>\n</table>\n").toString();
    }

    private static String placeholder(String text) {
        return "<div class=\"empty\">" + escape(text) + "</div>\n";
    }

    /**
     * Leaf values by dotted key in document order ({@code prompt.mode}); arrays are kept as compact JSON, strings as
     * their text.
     */
    static Map<String, String> flatten(JsonNode config) {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", config, flat);
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject() && !node.isEmpty()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), out);
            }
        } else {
            out.put(prefix, node.isTextual() ? node.textValue() : node.isFloatingPointNumber()
                    && Double.isFinite(node.doubleValue()) ? plain(node.doubleValue()) : node.toString());
        }
    }

    /** The first of {@code keys} present with a non-empty value, else the first key containing the first candidate. */
    private static String pick(Map<String, String> flat, String... keys) {
        for (String key : keys) {
            String v = flat.get(key);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        for (Map.Entry<String, String> e : flat.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).contains(keys[0]) && !e.getValue().isBlank()) {
                return e.getValue();
            }
        }
        return "—";
    }

    /** 0.0002 rather than Jackson's "2.0E-4"; 3 rather than "3.0". */
    private static String plain(double v) {
        double abs = Math.abs(v);
        if (v != 0 && (abs < 1e-9 || abs >= 1e15)) {
            return Double.toString(v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String score(double v) {
        return Double.isFinite(v) ? fixed(v, 1) : "—";
    }

    private static String delta(double v) {
        return String.format(Locale.ROOT, "%+.1f", v);
    }

    private static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /**
     * Escapes text for HTML and XML (text and attribute values); characters XML does not allow (controls other than
     * tab/newline/CR, unpaired surrogates) become U+FFFD so that every SVG stays well-formed.
     */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1));
                    if (pairedHigh) {
                        out.append(c).append(s.charAt(++i));
                    } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || Character.isSurrogate(c)
                            || c == 0xFFFE || c == 0xFFFF) {
                        out.append('\uFFFD');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static final String CSS = """
            :root { color-scheme: light; }
            * { box-sizing: border-box; }
            body { margin: 0; background: #f6f7f9; color: #1f2937;
              font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
            main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 40px; }
            header { margin-bottom: 16px; }
            h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
            h2 { font-size: 15px; margin: 0 0 10px; color: #374151; }
            .meta { margin: 0; color: #6b7280; word-break: break-all; }
            .meta b { color: #374151; font-weight: 600; }
            .summary { margin: 10px 0 0; padding: 10px 14px; background: #fff; border: 1px solid #e5e7eb;
              border-left: 4px solid #2563eb; border-radius: 6px; font-size: 15px; }
            .notes { margin: 0 0 16px; padding: 10px 14px 10px 30px; background: #fffbeb; border: 1px solid #fde68a;
              border-radius: 6px; color: #92400e; }
            .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
            .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 14px 16px;
              margin-bottom: 16px; overflow-x: auto; }
            .charts .card { margin-bottom: 0; }
            .charts { margin-bottom: 16px; }
            svg { display: block; width: 100%; height: auto; }
            .note { margin: 6px 0 0; color: #92400e; font-size: 13px; }
            .empty { padding: 36px 0; text-align: center; color: #9ca3af; font-style: italic; }
            table { border-collapse: collapse; width: 100%; }
            th, td { padding: 6px 10px; border-bottom: 1px solid #eef0f3; text-align: left; vertical-align: top; }
            thead th { color: #6b7280; font-weight: 600; font-size: 12px; text-transform: uppercase;
              letter-spacing: .03em; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            thead th:nth-child(n+2) { text-align: right; }
            tr.best td { background: #f0fdf4; font-weight: 600; }
            tr.baseline td { color: #6b7280; }
            .badge { display: inline-block; padding: 0 6px; border-radius: 9px; background: #16a34a; color: #fff;
              font-size: 11px; font-weight: 600; }
            .up { color: #15803d; }
            .down { color: #b91c1c; }
            table.config th { width: 34%; font-weight: 500; color: #4b5563; font-family: ui-monospace, monospace;
              font-size: 13px; word-break: break-all; }
            table.config td { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
            footer { color: #9ca3af; font-size: 12px; text-align: center; margin-top: 8px; }
            """;
}
