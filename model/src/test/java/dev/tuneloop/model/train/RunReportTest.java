package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class RunReportTest {
    private static final Pattern SVG = Pattern.compile("<svg\\b.*?</svg>", Pattern.DOTALL);
    private static final Pattern PATH_D = Pattern.compile("<path [^>]*\\bd=\"([^\"]*)\"");
    private static final String CONFIG = """
            {"model": "/work/shared/models/qwen2.5-0.5b-instruct",
             "data": {"train": "train-proxy-36-articles.jsonl", "eval": "dev-12-articles.jsonl"},
             "lr": 0.0002, "epochs": 3,
             "lora": {"r": 8, "alpha": 16, "target_modules": ["q_proj", "v_proj"]},
             "prompt": {"mode": "<script>alert('x')</script> & more"}}
            """;

    @TempDir
    Path run;

    @Test
    void completeRunHasThreeWellFormedChartsSummaryTablesAndNoExternalReference() throws Exception {
        List<String> lines = trainLines(1, 300);
        lines.add(0, eval("baseline", 0, 0.0, 35.0, 47.3));
        lines.add(100, eval("epoch-0001", 100, 1.0, 40.5, 52.4));
        lines.add(201, eval("epoch-0002", 200, 2.0, 44.0, 57.1));
        lines.add(eval("epoch-0003", 300, 3.0, 44.5, 56.8));
        String html = writeAndRead(lines);

        List<String> svgs = svgBlocks(html);
        assertEquals(3, svgs.size(), "loss, learning-rate and score charts");
        assertEquals(3, count(html, "<svg"));
        for (String svg : svgs) {
            Document doc = parseXml(svg);
            assertEquals("svg", doc.getDocumentElement().getLocalName());
        }
        assertEquals(300, pathPoints(svgs.get(0)), "every one of the 300 losses is drawn");
        assertTrue(svgs.get(2).contains(">baseline F1 47.3<"), "dashed baseline F1 line is labelled");
        assertTrue(svgs.get(2).contains(">baseline EM 35.0<"), "dashed baseline EM line is labelled");
        assertTrue(svgs.get(2).contains(">best: epoch-0002<"), "best checkpoint is highlighted in the chart");

        assertTrue(html.contains("baseline F1 <b>47.3</b> / EM <b>35.0</b> → best F1 <b>57.1</b> / EM <b>44.0</b>"
                + " (epoch-0002, +9.8 F1)"), "summary line");
        assertTrue(html.contains("step <b>300</b>"));
        assertTrue(html.contains("<tr class=\"best\"><td>epoch-0002 <span class=\"badge\">best</span>"),
                "best = highest F1 among checkpoints");
        assertEquals(1, count(html, "class=\"best\"><td>"));
        assertTrue(html.contains("<td class=\"num up\">+9.5</td>"), "delta F1 of epoch-0003 vs baseline");
        assertTrue(html.contains("model <b>/work/shared/models/qwen2.5-0.5b-instruct</b>"));
        assertTrue(html.contains("data <b>train-proxy-36-articles.jsonl</b>"));
        assertTrue(html.contains("<h1>" + run.getFileName() + "</h1>"));

        assertTrue(html.contains(
                "<tr><th>prompt.mode</th><td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"),
                "nested config flattened with dots, value escaped");
        assertTrue(html.contains("<tr><th>lr</th><td>0.0002</td>"), "numbers as written, not 2.0E-4");
        assertTrue(html.contains("<tr><th>lora.target_modules</th><td>[&quot;q_proj&quot;,&quot;v_proj&quot;]</td>"));
        assertFalse(html.toLowerCase(Locale.ROOT).contains("<script"), "no script at all, the config one escaped");

        String withoutSvgNamespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assertEquals(3, count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
        assertFalse(withoutSvgNamespace.contains("http://"), "no external URL");
        assertFalse(withoutSvgNamespace.contains("https://"), "no external URL");
        assertFalse(html.contains("<link") || html.contains("@import") || html.contains("url("), "nothing loaded");

        try (Stream<Path> files = Files.list(run)) {
            assertEquals(List.of("config.json", "metrics.jsonl", "report.html"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temp file left behind");
        }
    }

    @Test
    void bestLineOverridesHighestF1() throws IOException {
        List<String> lines = trainLines(1, 20);
        lines.add(eval("baseline", 0, 0.0, 35.0, 47.3));
        lines.add(eval("epoch-0001", 10, 1.0, 44.0, 57.1));
        lines.add(eval("epoch-0002", 20, 2.0, 43.0, 56.0));
        lines.add("{\"type\":\"best\",\"checkpoint\":\"epoch-0002\",\"f1\":56.0}");
        String html = writeAndRead(lines);
        assertTrue(html.contains("<tr class=\"best\"><td>epoch-0002 <span class=\"badge\">best</span>"));
        assertEquals(1, count(html, "class=\"badge\""));
        assertTrue(html.contains(">best: epoch-0002<"));
    }

    @Test
    void bestLineNamingAnUnevaluatedCheckpointIsReportedAndIgnored() throws IOException {
        String html = writeAndRead(List.of(eval("baseline", 0, 0.0, 35.0, 47.3), eval("epoch-0001", 10, 1.0, 44.0, 57.1),
                "{\"type\":\"best\",\"checkpoint\":\"epoch-0009\"}"));
        assertTrue(html.contains("names &#39;epoch-0009&#39; as best, but has no evaluation of it"), html);
        assertTrue(html.contains("<tr class=\"best\"><td>epoch-0001 <span class=\"badge\">best</span>"));
    }

    @Test
    void bestIsHighestF1AmongCheckpointsEarliestOnTiesNeverTheBaseline() throws IOException {
        write(List.of(eval("baseline", 0, 0.0, 60.0, 70.0), eval("epoch-0001", 10, 1.0, 40.0, 55.0),
                eval("epoch-0002", 20, 2.0, 41.0, 55.0), eval("epoch-0003", 30, 3.0, 39.0, 54.9)));
        RunMetrics metrics = RunMetrics.read(run.resolve("metrics.jsonl"));
        assertEquals("epoch-0001", metrics.best().orElseThrow().checkpoint());
        assertEquals(70.0, metrics.baseline().orElseThrow().f1());
        String html = Files.readString(RunReport.write(run));
        assertTrue(html.contains("<td class=\"num down\">-15.0</td>"), "negative delta shown as a drop");
    }

    @Test
    void partiallyWrittenLastLineIsSkippedSilentlyButABrokenMiddleLineIsReported() throws IOException {
        List<String> lines = trainLines(1, 10);
        lines.add(4, "{\"type\":\"train\",\"step\":");
        String text = String.join("\n", lines) + "\n{\"type\":\"train\",\"step\":11,\"lo";
        Files.writeString(run.resolve("config.json"), CONFIG);
        Files.writeString(run.resolve("metrics.jsonl"), text);
        String html = Files.readString(RunReport.write(run));
        assertTrue(html.contains("step <b>10</b>"), "the cut line (step 11) is not read");
        assertTrue(html.contains("metrics.jsonl: 1 unreadable line(s) skipped — line 5: not valid JSON"), html);
        assertFalse(html.contains("line 12"), "the line being written is no problem");
        assertEquals(2, svgBlocks(html).size());
        assertEquals(10, pathPoints(svgBlocks(html).get(0)));
    }

    @Test
    void runWithNoLinesYetSaysNoDataYet() throws IOException {
        write(List.of());
        String html = Files.readString(RunReport.write(run));
        assertTrue(html.contains("No data yet"));
        assertEquals(0, count(html, "<svg"));
        assertTrue(html.contains("<tr><th>prompt.mode</th>"), "config is shown from the start");

        Files.delete(run.resolve("metrics.jsonl"));
        assertTrue(Files.readString(RunReport.write(run)).contains("No data yet"), "metrics.jsonl not created yet");
    }

    @Test
    void runWithoutEvaluationYetDrawsTrainingChartsOnly() throws IOException {
        String html = writeAndRead(trainLines(1, 5));
        assertEquals(2, svgBlocks(html).size());
        assertTrue(html.contains("no baseline → no checkpoint evaluated yet"));
        assertTrue(html.contains("no evaluation yet"));
    }

    @Test
    void nonFiniteLossesAreSkippedAndCounted() throws Exception {
        List<String> lines = new ArrayList<>(trainLines(1, 4));
        lines.add("{\"type\":\"train\",\"step\":5,\"epoch\":0.1,\"loss\":NaN,\"lr\":0.0001}");
        lines.add("{\"type\":\"train\",\"step\":6,\"epoch\":0.1,\"loss\":\"Infinity\",\"lr\":0.0001}");
        lines.add("{\"type\":\"train\",\"step\":7,\"epoch\":0.1,\"loss\":1.25,\"lr\":0.0001,\"grad_norm\":0.8}");
        lines.add("{\"type\":\"train\",\"step\":8,\"epoch\":0.1,\"loss\":-Infinity,\"lr\":0.0001}");
        String html = writeAndRead(lines);
        assertTrue(html.contains("3 logged step(s) had a non-finite or missing loss"), html);
        assertTrue(html.contains("final loss <b>1.250</b>"), "last finite loss");
        String lossChart = svgBlocks(html).get(0);
        assertEquals(5, pathPoints(lossChart));
        assertFalse(lossChart.contains("NaN") || lossChart.contains("Infinity"));
        assertEquals(8, pathPoints(svgBlocks(html).get(1)), "learning rate of every step is still drawn");
    }

    @Test
    void thousandsOfStepsAreDownsampledAndStayFast() throws IOException {
        List<String> lines = trainLines(1, 5_000);
        lines.set(1_234, "{\"type\":\"train\",\"step\":1235,\"epoch\":1.0,\"loss\":9.5,\"lr\":0.0002}");
        write(lines);
        RunReport.write(run); // warm-up
        long start = System.nanoTime();
        String html = Files.readString(RunReport.write(run));
        long millis = (System.nanoTime() - start) / 1_000_000;
        int drawn = pathPoints(svgBlocks(html).get(0));
        assertTrue(drawn <= SvgChart.MAX_DRAWN && drawn >= SvgChart.MAX_DRAWN / 2, "drawn points: " + drawn);
        assertTrue(svgBlocks(html).get(0).contains(">10<"), "y axis reaches the 9.5 spike (ticks to 10)");
        assertTrue(millis < 3_000, "report of 5,000 steps took " + millis + " ms");
        assertTrue(html.length() < 400_000, "report size " + html.length());
    }

    @Test
    void malformedConfigNamesTheFile() throws IOException {
        Files.writeString(run.resolve("config.json"), "[1, 2]");
        IOException e = assertThrows(IOException.class, () -> RunReport.write(run));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("ARRAY"), e.getMessage());
    }

    private String writeAndRead(List<String> lines) throws IOException {
        write(lines);
        Path report = RunReport.write(run);
        assertEquals(run.toAbsolutePath().resolve("report.html"), report);
        return Files.readString(report);
    }

    private void write(List<String> lines) throws IOException {
        Files.writeString(run.resolve("config.json"), CONFIG);
        Files.writeString(run.resolve("metrics.jsonl"), lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    /** Train lines for steps from..to: a decaying noisy loss, warm-up then cosine learning rate. */
    private static List<String> trainLines(int from, int to) {
        List<String> lines = new ArrayList<>();
        LrSchedule schedule = new LrSchedule(2e-4, 30, to);
        for (int step = from; step <= to; step++) {
            double loss = 0.6 + 2.2 * Math.exp(-step / 60.0) + 0.08 * Math.sin(step * 1.7);
            lines.add(String.format(Locale.ROOT, "{\"type\":\"train\",\"step\":%d,\"epoch\":%.4f,\"loss\":%.5f,"
                    + "\"lr\":%.8g,\"tokens_per_s\":%.1f,\"grad_norm\":1.0}", step, step / 100.0, loss,
                    schedule.at(step), 800.0 + step % 25));
        }
        return lines;
    }

    private static String eval(String checkpoint, int step, double epoch, double em, double f1) {
        return String.format(Locale.ROOT, "{\"type\":\"eval\",\"step\":%d,\"epoch\":%.1f,\"checkpoint\":\"%s\","
                + "\"exact_match\":%.1f,\"f1\":%.1f,\"n\":200}", step, epoch, checkpoint, em, f1);
    }

    private static List<String> svgBlocks(String html) {
        List<String> blocks = new ArrayList<>();
        Matcher m = SVG.matcher(html);
        while (m.find()) {
            blocks.add(m.group());
        }
        return blocks;
    }

    /** Number of points in the first path of an SVG ("M x y L x y ..."). */
    private static int pathPoints(String svg) {
        Matcher m = PATH_D.matcher(svg);
        assertTrue(m.find(), "no path in " + svg);
        return m.group(1).split("[ML]").length - 1;
    }

    private static Document parseXml(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
