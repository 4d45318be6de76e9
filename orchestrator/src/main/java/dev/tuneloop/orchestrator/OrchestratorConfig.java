package dev.tuneloop.orchestrator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Everything the orchestrator is configured with, under {@code tuneloop.orchestrator.*}; validated at start-up. The
 * object store is the shared {@link dev.tuneloop.config.StorageConfig} ({@code tuneloop.storage.*}).
 */
@ConfigMapping(prefix = "tuneloop.orchestrator")
public interface OrchestratorConfig {
    /** The name clients ask the model server for; promotions are keyed by it. */
    @WithDefault("qwen-squad")
    String servedModel();

    /**
     * F1 points (0–100) a checkpoint must gain over the promoted adapter, scored on the same eval set, to replace it
     * automatically.
     */
    @WithDefault("1.0")
    double promotionMargin();

    /** Retention: the last K saved checkpoints of a run are kept, besides its best, unevaluated and promoted ones. */
    @WithDefault("3")
    int keepLastCheckpoints();

    /** Consumer group whose committed offsets mark the records whose side effects (dead letters) were done. */
    @WithDefault("tuneloop-orchestrator")
    String consumerGroup();

    /** How long a publish may wait for the broker before the request fails with 503. */
    @WithDefault("10s")
    Duration publishTimeout();

    /** The tuneloop version written into the lineage of the events the orchestrator creates. */
    @WithDefault("0.1.0-SNAPSHOT")
    String version();

    /** Default hyper-parameters for {@code POST /runs} fields left out. */
    HyperParameterDefaults defaults();

    /**
     * Folder of the storage bucket under which every run keeps its objects
     * ({@code s3://<bucket>/<runs-prefix><run id>/}); deleting a run deletes that folder.
     */
    @WithDefault("runs/")
    String runsPrefix();

    /**
     * Retraining triggers, keyed by {@code bucket/prefix} (quote the key: {@code triggers."tuneloop/datasets/squad/"}):
     * an object created under the prefix starts a run configured here. None by default.
     */
    Map<String, Trigger> triggers();

    /** The run a new dataset object under a watched prefix starts; the object is its training data. */
    interface Trigger {
        /** Base model, a Hugging Face id. */
        String modelId();

        @WithDefault("main")
        String modelRevision();

        /** The eval set every triggered run is scored on ({@code s3://} or {@code https://}). */
        String evalDataUri();

        /** false: train a fresh LoRA; true: start from the adapter currently promoted (fresh if none is). */
        @WithDefault("false")
        boolean fromPromoted();

        HyperParameterDefaults hyperParameters();
    }

    /** Field by field the trainer's settings (see {@code dev.tuneloop.contracts.HyperParameters}). */
    interface HyperParameterDefaults {
        @WithDefault("3")
        int epochs();

        @WithDefault("2e-4")
        double lr();

        @WithDefault("0.03")
        double warmupRatio();

        @WithDefault("0.0")
        double weightDecay();

        @WithDefault("1.0")
        double maxGradNorm();

        @WithDefault("4")
        int batchSize();

        @WithDefault("8")
        int gradAccum();

        @WithDefault("8")
        int loraR();

        @WithDefault("16")
        int loraAlpha();

        @WithDefault("0.05")
        double loraDropout();

        @WithDefault("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
        List<String> targetModules();

        @WithDefault("512")
        int maxSeqLen();

        @WithDefault("1")
        int saveEveryEpochs();

        @WithDefault("0")
        int saveEverySteps();

        @WithDefault("0")
        int evalLimit();

        /** {@code context} (passage and question) or {@code question-only}: the trainer's prompt modes. */
        @WithDefault("context")
        String promptMode();

        @WithDefault("42")
        long seed();
    }
}
