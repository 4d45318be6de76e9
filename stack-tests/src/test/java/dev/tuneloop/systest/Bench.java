package dev.tuneloop.systest;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.RunCompleted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.contracts.TrainingRequested;
import dev.tuneloop.contracts.TrainingStarted;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.StorageSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    /**
     * The run's wall-clock timeline from the producers' timestamps, and how long its checkpoints take to move through
     * S3 here: each checkpoint's files downloaded (sha256-checked) and uploaded again, the latest resume state
     * downloaded. Printed as {@code BENCH} lines.
     */
    static void runTimeline(Kafka kafka, StorageSettings storage, String runId, Path scratch) throws Exception {
        long requested = kafka.events(Topics.TRAINING_REQUESTED, TrainingRequested.class, runId).get(0).timestamp();
        long started = kafka.events(Topics.RUN_EVENTS, TrainingStarted.class, runId).get(0).timestamp();
        long completed = kafka.events(Topics.RUN_EVENTS, RunCompleted.class, runId).get(0).timestamp();
        long lastEvaluated = kafka.events(Topics.CHECKPOINT_EVALUATED, CheckpointEvaluated.class, runId).stream()
                .mapToLong(Kafka.Timed::timestamp).max().orElseThrow();
        System.out.printf(Locale.ROOT, "BENCH %s timeline: requested->started %.3f s (queue, data download, model"
                + " load), started->completed %.3f s, requested->completed %.3f s, requested->last evaluated %.3f s%n",
                runId, (started - requested) / 1000.0, (completed - started) / 1000.0, (completed - requested) / 1000.0,
                (lastEvaluated - requested) / 1000.0);
        try (ObjectStore store = new ObjectStore(storage)) {
            for (Kafka.Timed<CheckpointSaved> s : kafka.events(Topics.CHECKPOINT_SAVED, CheckpointSaved.class,
                    runId)) {
                String name = s.payload().checkpoint();
                long bytes = 0;
                long down = 0;
                long up = 0;
                for (Map.Entry<String, StoredObject> f : s.payload().files().entrySet()) {
                    Path file = scratch.resolve(runId).resolve(name).resolve(f.getKey());
                    long t = System.nanoTime();
                    store.get(ObjectUri.parse(f.getValue().uri()), file, f.getValue().sha256());
                    long t2 = System.nanoTime();
                    store.put(store.uri("bench/" + runId + "/" + name + "/" + f.getKey()), file);
                    up += System.nanoTime() - t2;
                    down += t2 - t;
                    bytes += f.getValue().size();
                }
                System.out.printf(Locale.ROOT, "BENCH %s %s: %d files, %d bytes: download %.1f ms, upload %.1f ms%n",
                        runId, name, s.payload().files().size(), bytes, down / 1e6, up / 1e6);
            }
            long bytes = 0;
            int files = 0;
            long t = System.nanoTime();
            for (ObjectUri uri : store.list(store.uri("runs/" + runId + "/resume/"))) {
                Path file = scratch.resolve(runId).resolve("resume").resolve(uri.fileName());
                bytes += store.get(uri, file, null).size();
                files++;
            }
            System.out.printf(Locale.ROOT, "BENCH %s resume state: %d files, %d bytes: download %.1f ms%n", runId,
                    files, bytes, (System.nanoTime() - t) / 1e6);
        }
    }
}
