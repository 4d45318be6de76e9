package dev.tuneloop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneloop.model.train.StepProgress;
import dev.tuneloop.stack.LocalStack;
import dev.tuneloop.stack.StackModel;
import dev.tuneloop.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code demo}: the whole system end to end on this machine — stack up, upload data, submit a run, follow training,
 * wait for the evaluation and the promotion, ask the inference service a question, print what happened, stop
 * everything. Exit 0, or 1 naming the failed stage.
 */
final class DemoCommand {
    static final Path DEFAULT_STATE = Path.of(".tuneloop", "demo");
    static final int TRAIN_EXAMPLES = 200;
    static final int EVAL_LIMIT = 100;

    /** A failure in one stage of the demo: stack, upload, submit, train, evaluate, promote or answer. */
    static final class StageFailure extends Exception {
        final String stage;

        StageFailure(String stage, String message, Throwable cause) {
            super(message, cause);
            this.stage = stage;
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final JsonHttp http = new JsonHttp();
    private final Duration stageTimeout;
    private LocalStack stack;

    private DemoCommand(PrintStream out, PrintStream err, Duration stageTimeout) {
        this.out = out;
        this.err = err;
        this.stageTimeout = stageTimeout;
    }

    static int run(String[] argv) throws Exception {
        Args args = new Args("demo", argv, Set.of());
        String model = args.string("model", null);
        Path state = args.path("state", DEFAULT_STATE);
        args.finish();
        return run(model, state, System.out, System.err);
    }

    static int run(String model, Path state, PrintStream out, PrintStream err) throws Exception {
        StackModel stackModel;
        try {
            stackModel = StackCommand.chooseModel(model, err);
        } catch (IOException | IllegalArgumentException e) {
            err.println("tuneloop demo: failed in stage stack: " + Main.describe(e));
            return 1;
        }
        DemoCommand demo = new DemoCommand(out, err, stackModel.isTiny() ? Duration.ofMinutes(15)
                : Duration.ofHours(12));
        try {
            demo.run(stackModel, state);
            return 0;
        } catch (StageFailure e) {
            err.println("tuneloop demo: failed in stage " + e.stage + ": " + Main.describe(e));
            err.println("tuneloop demo: logs in " + state.resolve("logs").toAbsolutePath());
            return 1;
        }
    }

    private void run(StackModel model, Path state) throws StageFailure, InterruptedException {
        clearState(state);
        LocalStack stack;
        try {
            stack = LocalStack.start(LocalStack.Options.local(state, StackCommand.repoDir(), model),
                    line -> err.println("tuneloop demo: " + line));
        } catch (IOException | RuntimeException e) {
            throw new StageFailure("stack", Main.describe(e), e);
        }
        this.stack = stack;
        Thread stopOnCtrlC = new Thread(stack::close, "tuneloop-demo-stop");
        Runtime.getRuntime().addShutdownHook(stopOnCtrlC);
        try {
            StackCommand.printEndpoints(stack, err);
            runStages(stack, model);
        } finally {
            err.println("tuneloop demo: stopping the stack ...");
            stack.close();
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnCtrlC);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook has stopped the stack already
            }
        }
    }

    private void runStages(LocalStack stack, StackModel model) throws StageFailure, InterruptedException {
        DemoData.Uploaded data = stage("upload", () -> {
            try (ObjectStore store = new ObjectStore(stack.storage())) {
                return DemoData.upload(StackCommand.sharedDir(), TRAIN_EXAMPLES, store,
                        stack.stateDir().resolve("work").resolve("demo"));
            }
        });
        err.println("tuneloop demo: uploaded " + data.trainExamples() + " training examples to " + data.train().uri()
                + " and " + data.evalExamples() + " eval examples to " + data.eval().uri());

        String runId = "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String orchestrator = stack.orchestratorUrl();
        int batchSize = 4;
        int gradAccum = model.isTiny() ? 2 : 4;
        stage("submit", () -> {
            ObjectNode body = JsonHttp.JSON.createObjectNode();
            body.put("runId", runId).put("modelId", model.id()).put("modelRevision", model.revision())
                    .put("trainDataUri", data.train().uri()).put("evalDataUri", data.eval().uri());
            body.putObject("hyperParameters").put("epochs", 1).put("batchSize", batchSize)
                    .put("gradAccum", gradAccum).put("maxSeqLen", model.isTiny() ? 256 : 384)
                    .put("evalLimit", EVAL_LIMIT).put("saveEveryEpochs", 1).put("saveEverySteps", 0)
                    .put("promptMode", "context");
            return http.post(orchestrator + "/runs", body);
        });
        err.println("tuneloop demo: submitted run " + runId + " (1 epoch, " + data.trainExamples() + " examples, eval "
                + EVAL_LIMIT + " questions)");

        long totalSteps = (data.trainExamples() + (long) batchSize * gradAccum - 1) / ((long) batchSize * gradAccum);
        StepProgress progress = new StepProgress("train", 0, totalSteps);
        long[] shown = {-1};
        JsonNode run = stage("train", () -> poll(() -> {
            JsonNode r = http.get(orchestrator + "/runs/" + runId);
            String status = r.path("status").asText();
            JsonNode p = r.path("progress");
            long step = status.equals("COMPLETED") ? totalSteps : Math.min(p.path("step").asLong(), totalSteps);
            if (p.isObject() && step > shown[0]) {
                shown[0] = step;
                progress.update(step,
                        "loss " + (p.path("loss").isNumber() ? String.format("%.4f", p.path("loss").asDouble())
                                : "-") + " | " + status);
            }
            if (status.equals("FAILED") || status.equals("CANCELLED")) {
                throw new IOException("run " + runId + " is " + status + ": " + r.path("statusReason").asText());
            }
            return status.equals("COMPLETED") ? r : null;
        }, "run " + runId + " to complete"));
        err.println("tuneloop demo: training completed with " + run.path("checkpoints").size() + " checkpoint(s)");

        JsonNode best = stage("evaluate", () -> poll(() -> {
            JsonNode r = http.get(orchestrator + "/runs/" + runId);
            if (r.path("status").asText().equals("FAILED")) {
                throw new IOException("run " + runId + " failed: " + r.path("statusReason").asText());
            }
            for (JsonNode c : r.path("checkpoints")) {
                if (c.path("f1").isNull() || c.path("f1").isMissingNode()) {
                    return null;
                }
            }
            return r.path("best").isObject() ? r.path("best") : null;
        }, "every checkpoint of " + runId + " to be evaluated"));
        err.printf("tuneloop demo: best checkpoint %s: EM %.2f, F1 %.2f on %d eval questions%n",
                best.path("name").asText(), best.path("exactMatch").asDouble(), best.path("f1").asDouble(),
                best.path("scores").path(0).path("n").asInt());

        JsonNode promotion = stage("promote", () -> poll(() -> {
            JsonNode current = http.get(orchestrator + "/promotions").path("current");
            return current.isObject() && current.path("runId").asText().equals(runId) ? current : null;
        }, "the orchestrator to promote a checkpoint of " + runId));
        JsonNode weights = promotion.path("files").path("adapter_model.safetensors");

        String inference = stack.inferenceUrl();
        JsonNode answer = stage("answer", () -> {
            poll(() -> {
                JsonNode adapter = http.get(inference + "/v1/adapter").path("adapter");
                return adapter.isObject() && adapter.path("run").asText().equals(runId)
                        && adapter.path("checkpoint").asText().equals(promotion.path("checkpoint").asText())
                        ? adapter : null;
            }, "the inference service to serve the promoted adapter");
            ObjectNode body = JsonHttp.JSON.createObjectNode();
            body.put("question", data.question().question()).put("context", data.question().context());
            return http.post(inference + "/v1/answer", body);
        });

        out.println("run id:        " + runId);
        out.println("promoted:      " + promotion.path("checkpoint").asText() + " (F1 "
                + promotion.path("f1").asText() + ", generation " + promotion.path("generation").asText() + ")");
        out.println("adapter uri:   " + weights.path("uri").asText());
        out.println("adapter sha256: " + weights.path("sha256").asText());
        out.println("question:      " + data.question().question());
        out.println("gold answers:  " + data.question().answers());
        out.println("answer:        " + answer.path("answer")); // JSON-quoted: an empty answer shows as ""
        out.println("adapter field: " + answer.path("adapter"));
        if (model.isTiny()) {
            out.println("(model tiny: a random model, its answer is noise — the pipeline is what this shows)");
        }
        out.flush();
    }

    interface Step<T> {
        T call() throws Exception;
    }

    private <T> T stage(String name, Step<T> step) throws StageFailure, InterruptedException {
        try {
            return step.call();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new StageFailure(name, Main.describe(e), e);
        }
    }

    /** Calls {@code check} every second until it returns a value; its exceptions end the wait. */
    private <T> T poll(Step<T> check, String what) throws Exception {
        long deadline = System.nanoTime() + stageTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            java.util.Optional<String> exited = stack.exited();
            if (exited.isPresent()) {
                throw new IOException(exited.get() + " while waiting for " + what);
            }
            T value = check.call();
            if (value != null) {
                return value;
            }
            Thread.sleep(1000);
        }
        throw new IOException("waited " + stageTimeout.toMinutes() + " min for " + what);
    }

    /** The demo starts from an empty state folder, so its run is the first candidate for promotion. */
    private static void clearState(Path state) throws StageFailure {
        try {
            if (!Files.exists(state)) {
                return;
            }
            boolean demoState;
            try (Stream<Path> files = Files.list(state)) {
                demoState = Files.exists(state.resolve("stack.lock")) || files.findAny().isEmpty();
            }
            if (!demoState) {
                throw new IOException(state.toAbsolutePath() + " exists and is not a stack state folder (no"
                        + " stack.lock); choose another --state");
            }
            try (Stream<Path> files = Files.walk(state)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        } catch (IOException e) {
            throw new StageFailure("stack", "cannot clear the demo state " + state + ": " + e.getMessage(), e);
        }
    }
}
