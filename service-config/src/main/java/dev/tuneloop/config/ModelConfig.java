package dev.tuneloop.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The one base model a service loads, under {@code tuneloop.model.*} (environment: {@code TUNELOOP_MODEL_*}); read by
 * the trainer, the evaluator and the inference service.
 */
@ConfigMapping(prefix = "tuneloop.model")
public interface ModelConfig {
    /**
     * Where the weights are: a local folder, a Hugging Face hub id ({@code owner/name[@revision]}, downloaded once
     * into the Hugging Face cache; {@code HF_HOME}, {@code HF_TOKEN}, {@code HF_HUB_OFFLINE} honoured), or
     * {@code tiny}: a tiny random Qwen2 made once into {@link #cacheDir()} from {@link #tokenizerDir()} (pipelines in
     * seconds, answers are noise).
     */
    @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
    String location();

    /**
     * The model's Hugging Face id: training requests must name it, checkpoints are compared with it, events carry it
     * as lineage.
     */
    @WithDefault("Qwen/Qwen2.5-0.5B-Instruct")
    String id();

    /** The model's revision: training requests must name it, events carry it as lineage. */
    @WithDefault("main")
    String revision();

    /** For {@code location=tiny}: a folder with Qwen2.5's {@code tokenizer.json}. */
    Optional<Path> tokenizerDir();

    /** Where {@code tiny} is made and cached. */
    @WithDefault("${user.home}/.cache/tuneloop")
    Path cacheDir();
}
