package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The records refuse values no consumer could act on, naming record, field and value. */
class EventValidationTest {
    private static final String PREFIX = SampleEvents.PREFIX;

    @Test
    void hyperParametersNameTheBadField() {
        assertMessage(() -> hp(0, 2e-4, 0.03, 0.05), "HyperParameters.epochs must be >= 1, got 0");
        assertMessage(() -> hp(1, Double.NaN, 0.03, 0.05), "HyperParameters.lr must be a finite number > 0, got NaN");
        assertMessage(() -> hp(1, 2e-4, 1.0, 0.05), "HyperParameters.warmupRatio must be in [0, 1), got 1.0");
        assertMessage(() -> hp(1, 2e-4, 0.0, 1.0), "HyperParameters.loraDropout must be in [0, 1), got 1.0");
        assertMessage(() -> new HyperParameters(1, 1e-4, 0, 0, 1, 1, 1, 8, 16, 0, List.of(), 512, 0, 0, 0, "chat", 1),
                "HyperParameters.targetModules must name at least one module");
    }

    @Test
    void checkpointFilesMustBeCompleteAndLieUnderThePrefix() {
        Map<String, StoredObject> missingWeights = new HashMap<>(SampleEvents.files(PREFIX));
        missingWeights.remove(AdapterFiles.WEIGHTS);
        assertMessage(() -> saved(PREFIX, missingWeights), "CheckpointSaved.files must contain adapter_model.safetensors");
        Map<String, StoredObject> elsewhere = SampleEvents.files("s3://tuneloop/runs/other/epoch-0002/");
        assertMessage(() -> saved(PREFIX, elsewhere), "CheckpointSaved.files[adapter_config.json].uri must be "
                + PREFIX + "adapter_config.json");
        assertMessage(() -> saved(PREFIX.substring(0, PREFIX.length() - 1), SampleEvents.files(PREFIX)),
                "CheckpointSaved.uriPrefix must be an s3:// folder ending with '/'");
        assertMessage(() -> new CheckpointSaved("../epoch-0002", 2, 478, PREFIX, SampleEvents.files(PREFIX),
                SampleEvents.adapterConfig()), "CheckpointSaved.checkpoint must be 1-128 characters");
    }

    @Test
    void storedObjectsNeedAnS3UriAndARealSha256() {
        assertMessage(() -> new StoredObject("/tmp/x", SampleEvents.CONFIG_SHA, 1),
                "StoredObject.uri must be an s3:// URI, got '/tmp/x'");
        assertMessage(() -> new StoredObject("s3://b/k", SampleEvents.CONFIG_SHA.toUpperCase(), 1),
                "StoredObject.sha256 must be 64 lowercase hex digits");
        assertMessage(() -> new StoredObject("s3://b/k", SampleEvents.CONFIG_SHA, -1), "StoredObject.size must be >= 0");
    }

    @Test
    void onlyAPinnedAdapterMayLackAnEvaluation() {
        Instant at = Instant.parse("2026-03-01T12:00:00Z");
        AdapterPromoted pinned = new AdapterPromoted("qwen-squad", 8, "step-000400", SampleEvents.files(PREFIX), null,
                null, true, at);
        assertEquals(null, pinned.f1());
        assertMessage(() -> new AdapterPromoted("qwen-squad", 8, "step-000400", SampleEvents.files(PREFIX), null,
                null, false, at), "AdapterPromoted.f1 is required unless the adapter is pinned");
        assertMessage(() -> new AdapterPromoted("qwen-squad", 8, "step-000400", SampleEvents.files(PREFIX), 70.0,
                null, false, at), "AdapterPromoted.evalSetId must be 64 lowercase hex digits");
        assertMessage(() -> new AdapterPromoted("qwen-squad", 0, "step-000400", SampleEvents.files(PREFIX), 70.0,
                SampleEvents.EVAL_SET_ID, false, at), "AdapterPromoted.generation must be >= 1, got 0");
    }

    @Test
    void scoresAreOnAHundredPointScale() {
        assertMessage(() -> new CheckpointEvaluated("epoch-0001", 0.615, 100.5, SampleEvents.EVAL_SET_ID, 10),
                "CheckpointEvaluated.f1 must be in [0.0, 100.0], got 100.5");
        assertMessage(() -> new TrainingProgressed(1, 1, Double.POSITIVE_INFINITY, 1e-4, 10),
                "TrainingProgressed.loss must be a finite number, got Infinity");
    }

    @Test
    void mutableInputsAreCopied() {
        List<String> names = new java.util.ArrayList<>(List.of("epoch-0001"));
        RunCompleted completed = new RunCompleted(10, names);
        names.add("epoch-0002");
        assertEquals(List.of("epoch-0001"), completed.checkpoints());
        var config = SampleEvents.adapterConfig();
        CheckpointSaved saved = saved(PREFIX, SampleEvents.files(PREFIX));
        config.put("r", 64);
        assertEquals(8, saved.adapterConfig().get("r").asInt());
    }

    private static HyperParameters hp(int epochs, double lr, double warmup, double dropout) {
        return new HyperParameters(epochs, lr, warmup, 0, 1, 1, 1, 8, 16, dropout, List.of("q_proj"), 512, 1, 0, 0,
                "chat", 1);
    }

    private static CheckpointSaved saved(String prefix, Map<String, StoredObject> files) {
        return new CheckpointSaved("epoch-0002", 2, 478, prefix, files, SampleEvents.adapterConfig());
    }

    private static void assertMessage(Executable construct, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
