package dev.tuneloop.contracts;

import java.util.List;

/**
 * Training finished. Checkpoint events travel on their own topics, so a consumer that needs all of them waits until
 * it has seen every name in {@code checkpoints}.
 *
 * @param finalStep optimizer steps completed
 * @param checkpoints names of every checkpoint the run saved, in order
 */
public record RunCompleted(long finalStep, List<String> checkpoints) implements EventPayload {
    public RunCompleted {
        Check.atLeast("RunCompleted", "finalStep", finalStep, 0);
        Check.present("RunCompleted", "checkpoints", checkpoints);
        for (String name : checkpoints) {
            Check.name("RunCompleted", "checkpoints[]", name);
        }
        checkpoints = List.copyOf(checkpoints);
    }
}
