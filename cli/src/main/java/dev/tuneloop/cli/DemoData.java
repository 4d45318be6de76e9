package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.storage.ObjectStore;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The demo's data: a fixed seeded sample of the training set and the whole eval set, from {@code ../shared/} when it
 * is there, else from the official SQuAD v1.1 URLs, written as JSON Lines and uploaded to {@code datasets/demo/}.
 */
final class DemoData {
    static final String TRAIN_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v1.1.json";
    static final String EVAL_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json";
    static final String SHARED_TRAIN = "data/squad-v1.1/train-proxy-36-articles.jsonl";
    static final String SHARED_EVAL = "data/squad-v1.1/dev-12-articles.jsonl";
    private static final long SEED = 42;

    /** @param question the eval set's first question, asked at the end */
    record Uploaded(StoredObject train, StoredObject eval, int trainExamples, int evalExamples,
            SquadExample question) {}

    private DemoData() {}

    static Uploaded upload(Path sharedDir, int trainExamples, ObjectStore store, Path workDir)
            throws IOException, InterruptedException {
        boolean shared = Files.isRegularFile(sharedDir.resolve(SHARED_TRAIN))
                && Files.isRegularFile(sharedDir.resolve(SHARED_EVAL));
        String trainSource = shared ? sharedDir.resolve(SHARED_TRAIN).toString() : TRAIN_URL;
        String evalSource = shared ? sharedDir.resolve(SHARED_EVAL).toString() : EVAL_URL;
        SquadData train = DataFiles.read(trainSource, OnBadRecord.SKIP);
        SquadData eval = DataFiles.read(evalSource, OnBadRecord.SKIP);
        if (train.examples().size() < trainExamples || eval.examples().isEmpty()) {
            throw new IOException("the demo needs " + trainExamples + " training examples and an eval set; "
                    + trainSource + " has " + train.examples().size() + ", " + evalSource + " has "
                    + eval.examples().size());
        }
        List<SquadExample> sample = new ArrayList<>(train.examples());
        Collections.shuffle(sample, new Random(SEED));
        sample = sample.subList(0, trainExamples);
        Files.createDirectories(workDir);
        Path trainFile = writeJsonLines(sample, workDir.resolve("train-" + trainExamples + ".jsonl"));
        Path evalFile = writeJsonLines(eval.examples(), workDir.resolve("eval.jsonl"));
        StoredObject trainObject = store.put(store.uri("datasets/demo/train-" + trainExamples + ".jsonl"), trainFile);
        StoredObject evalObject = store.put(store.uri("datasets/demo/eval.jsonl"), evalFile);
        return new Uploaded(trainObject, evalObject, sample.size(), eval.examples().size(), eval.examples().get(0));
    }

    private static Path writeJsonLines(List<SquadExample> examples, Path file) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (SquadExample e : examples) {
                ObjectNode line = JsonHttp.JSON.createObjectNode();
                line.put("id", e.id());
                if (e.title() != null) {
                    line.put("title", e.title());
                }
                line.put("context", e.context());
                line.put("question", e.question());
                ArrayNode answers = line.putArray("answers");
                for (int i = 0; i < e.answers().size(); i++) {
                    answers.addObject().put("text", e.answers().get(i)).put("answer_start", e.answerStarts().get(i));
                }
                out.write(JsonHttp.JSON.writeValueAsString(line));
                out.write('\n');
            }
        }
        return file;
    }
}
