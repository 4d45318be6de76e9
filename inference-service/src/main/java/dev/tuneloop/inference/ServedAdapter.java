package dev.tuneloop.inference;

import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.model.lora.LoraWeights;
import dev.tuneloop.model.train.ServingPrompt;
import java.time.Instant;

/**
 * What one request is answered with, fixed when the request is accepted: the adapter's LoRA arrays (unmerged, in host
 * memory), the prompt it was trained with and where it came from. Immutable; a swap makes a new one, so a request
 * bound to the previous snapshot still finishes on it. Compared by identity: a batch holds one snapshot.
 *
 * @param weights   {@code null} for the base model
 * @param promotion {@code null} for the base model
 * @param runId     the run that produced the adapter; {@code null} for the base model
 * @param since     when this snapshot started being served
 */
public record ServedAdapter(LoraWeights weights, ServingPrompt prompt, AdapterPromoted promotion, String runId,
        Instant since) {

    public ServedAdapter {
        if (prompt == null || since == null) {
            throw new IllegalArgumentException("a served adapter needs a prompt and a start time");
        }
        if ((weights == null) != (promotion == null) || (weights == null) != (runId == null)) {
            throw new IllegalArgumentException("weights, promotion and run id are given together (an adapter) or not"
                    + " at all (the base model)");
        }
    }

    /** The base model without an adapter, with the default prompt. */
    public static ServedAdapter base(Instant since) {
        return new ServedAdapter(null, ServingPrompt.defaults(), null, null, since);
    }

    public boolean isBase() {
        return weights == null;
    }

    public long generation() {
        return promotion == null ? 0 : promotion.generation();
    }

    /** One line for logs. */
    public String describe() {
        if (isBase()) {
            return "the base model";
        }
        return "adapter " + runId + "/" + promotion.checkpoint() + " (generation " + promotion.generation()
                + ", f1 " + promotion.f1() + ", " + weights.modules().size() + " modules, "
                + weights.bytes() / 1024 + " KiB, " + prompt.describe() + ")";
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
