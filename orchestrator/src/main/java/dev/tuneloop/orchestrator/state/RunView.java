package dev.tuneloop.orchestrator.state;

import dev.tuneloop.contracts.TrainingRequested;
import java.time.Instant;
import java.util.List;

/**
 * What the orchestrator knows about one run, as {@code GET /runs/{id}} shows it.
 *
 * @param statusReason the failure or cancellation reason; {@code null} otherwise
 * @param request the run's {@code TrainingRequested}; {@code null} while only later events of it were seen
 * @param progress the latest progress report; {@code null} before the first
 * @param evalSetId the eval set most of the run's checkpoints were scored on; {@code exactMatch}/{@code f1} of the
 *     checkpoints and {@code best} refer to it. {@code null} before the first evaluation
 * @param checkpoints in training order (by step; checkpoints only evaluated so far last, by name)
 * @param best the checkpoint with the highest F1 on {@code evalSetId}, on a tie the earlier evaluation (as promotion
 *     breaks ties); {@code null} before the first evaluation
 */
public record RunView(String runId, RunStatus status, String statusReason, Instant requestedAt,
        TrainingRequested request, Progress progress, String evalSetId, List<Checkpoint> checkpoints,
        Checkpoint best) {

    /**
     * @param step optimizer steps completed; 0 before the first progress report
     * @param epochs the requested number of epochs; {@code null} while the request is unknown
     * @param loss mean loss of the latest step; {@code null} (as lr and tokensPerS) before the first report
     * @param attempt the worker's attempt ({@code TrainingStarted}); 0 before a worker started the run
     */
    public record Progress(long step, int epoch, Integer epochs, Double loss, Double lr, Double tokensPerS,
            String workerId, int attempt) {}

    /**
     * @param saved whether {@code CheckpointSaved} was seen (evaluations can arrive first); epoch, step and uriPrefix
     *     are {@code null} until then
     * @param exactMatch EM on the run's {@code evalSetId}; {@code null} if not evaluated there
     * @param f1 F1 on the run's {@code evalSetId}; {@code null} if not evaluated there
     * @param retained kept by the retention rule (last K, the best, not yet evaluated, or promoted); the orchestrator
     *     deletes the objects of a checkpoint that is not retained, and it cannot be promoted any more
     * @param promoted whether this checkpoint is the adapter currently promoted for some served model
     * @param scores its scores on every eval set
     */
    public record Checkpoint(String name, Integer epoch, Long step, String uriPrefix, boolean saved,
            Double exactMatch, Double f1, boolean retained, boolean promoted, List<Score> scores) {}

    /** @param n examples evaluated */
    public record Score(String evalSetId, double exactMatch, double f1, int n, Instant evaluatedAt) {}
}
