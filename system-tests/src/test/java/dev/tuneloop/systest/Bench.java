package dev.tuneloop.systest;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The workflow latencies of docs/benchmarks.md, from the Kafka records' producer timestamps of one run: per checkpoint
 * {@code CheckpointSaved} → {@code CheckpointEvaluated} minus the evaluator's answering time (from its log line
 * "answering took X s"), and for the promoted checkpoint {@code CheckpointEvaluated} → {@code AdapterPromoted}.
 * Printed as {@code BENCH} lines; returns the median transit time in seconds.
 */
final class Bench {
    private Bench() {}

    static double workflowLatencies(Kafka kafka, String runId, Path evaluatorLog) throws Exception {
        List<Kafka.Timed<CheckpointSaved>> saved = kafka.events(Topics.CHECKPOINT_SAVED, CheckpointSaved.class, runId);
        List<Kafka.Timed<CheckpointEvaluated>> evaluated = kafka.events(Topics.CHECKPOINT_EVALUATED,
                CheckpointEvaluated.class, runId);
        List<Kafka.Timed<AdapterPromoted>> promoted = kafka.events(Topics.ADAPTER_PROMOTED, AdapterPromoted.class,
                runId);
        String log = Files.readString(evaluatorLog, StandardCharsets.UTF_8);
        List<Double> transit = new ArrayList<>();
        for (Kafka.Timed<CheckpointSaved> s : saved) {
            String name = s.payload().checkpoint();
            Kafka.Timed<CheckpointEvaluated> e = evaluated.stream()
                    .filter(x -> x.payload().checkpoint().equals(name)).findFirst().orElse(null);
            Matcher m = Pattern.compile("run " + Pattern.quote(runId) + ": checkpoint " + Pattern.quote(name)
                    + " exact_match .*answering took ([0-9.]+) s").matcher(log);
            if (e == null || !m.find()) {
                continue;
            }
            double answering = Double.parseDouble(m.group(1));
            double total = (e.timestamp() - s.timestamp()) / 1000.0;
            transit.add(total - answering);
            String line = String.format(Locale.ROOT, "BENCH %s %s: saved->evaluated %.3f s, answering %.3f s,"
                    + " transit %.3f s", runId, name, total, answering, total - answering);
            for (Kafka.Timed<AdapterPromoted> p : promoted) {
                if (p.payload().checkpoint().equals(name)) {
                    line += String.format(Locale.ROOT, "; evaluated->promoted %.3f s, saved->promoted minus"
                            + " answering %.3f s", (p.timestamp() - e.timestamp()) / 1000.0,
                            (p.timestamp() - s.timestamp()) / 1000.0 - answering);
                }
            }
            System.out.println(line);
        }
        transit.sort(Double::compare);
        double median = transit.isEmpty() ? Double.NaN : transit.size() % 2 == 1 ? transit.get(transit.size() / 2)
                : (transit.get(transit.size() / 2 - 1) + transit.get(transit.size() / 2)) / 2;
        System.out.printf(Locale.ROOT, "BENCH %s: median CheckpointSaved->CheckpointEvaluated minus answering %.3f s"
                + " over %d checkpoints; load average %s%n", runId, median, transit.size(),
                Files.readString(Path.of("/proc/loadavg")).trim());
        return median;
    }
}
