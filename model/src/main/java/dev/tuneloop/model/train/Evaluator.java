package dev.tuneloop.model.train;

import dev.tuneloop.model.generate.QaAnswerer;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadMetric;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/** Answers every example of an eval set and scores the answers with the official SQuAD v1.1 metric. */
public final class Evaluator {
    /** Fixed, so every run and every checkpoint is scored on the same sample of an eval file. */
    private static final long SAMPLE_SEED = 20161127L;

    private Evaluator() {}

    public record Outcome(SquadMetric.Result result, Map<String, String> predictions, String evalSetId) {}

    /** A fixed seeded sample of {@code limit} examples, in file order ({@code limit} 0 or ≥ size: all). */
    public static List<SquadExample> sample(List<SquadExample> all, int limit) {
        if (limit <= 0 || limit >= all.size()) {
            return all;
        }
        int[] idx = new int[all.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        SplittableRandom random = new SplittableRandom(SAMPLE_SEED);
        for (int i = 0; i < limit; i++) { // partial Fisher-Yates
            int j = i + random.nextInt(idx.length - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] chosen = Arrays.copyOf(idx, limit);
        Arrays.sort(chosen);
        List<SquadExample> out = new ArrayList<>();
        for (int i : chosen) {
            out.add(all.get(i));
        }
        return out;
    }

    /** The eval set's identity: sha256 over the evaluated examples' ids and gold answers, in order. */
    public static String evalSetId(List<SquadExample> examples) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (SquadExample e : examples) {
                sha.update(e.id().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                for (String a : e.answers()) {
                    sha.update(a.getBytes(StandardCharsets.UTF_8));
                    sha.update((byte) 1);
                }
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Outcome evaluate(QaAnswerer answerer, List<SquadExample> examples, int batchSize,
            IntConsumer progress) {
        Map<String, String> predictions = new LinkedHashMap<>();
        for (int start = 0; start < examples.size(); start += batchSize * 4) {
            List<SquadExample> chunk = examples.subList(start, Math.min(examples.size(), start + batchSize * 4));
            List<QaAnswerer.Question> questions = new ArrayList<>();
            chunk.forEach(e -> questions.add(new QaAnswerer.Question(e.question(), e.context())));
            List<QaAnswerer.Answer> answers = answerer.answer(questions, batchSize);
            for (int i = 0; i < chunk.size(); i++) {
                predictions.put(chunk.get(i).id(), answers.get(i).text());
            }
            progress.accept(predictions.size());
        }
        return new Outcome(SquadMetric.evaluate(examples, predictions), predictions, evalSetId(examples));
    }
}
