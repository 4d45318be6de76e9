package dev.tuneloop.orchestrator.state;

import static dev.tuneloop.orchestrator.Events.EVAL_SET_A;
import static dev.tuneloop.orchestrator.Events.EVAL_SET_B;
import static dev.tuneloop.orchestrator.Events.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.orchestrator.Events;
import dev.tuneloop.orchestrator.state.PromotionPolicy.Decision;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PromotionPolicyTest {
    private final PromotionPolicy policy = new PromotionPolicy(1.0);

    private static Candidate candidate(String run, String checkpoint, double f1, String evalSet, long second) {
        return new Candidate(run, checkpoint, Events.files(Events.prefix(run, checkpoint)), f1 - 10, f1, evalSet,
                T0.plusSeconds(second));
    }

    private static Optional<Promotion> current(String run, String checkpoint, Double f1, String evalSet,
            boolean pinned) {
        return Optional.of(new Promotion(run, Events.promoted(run, checkpoint, 4, f1, evalSet, pinned),
                UUID.randomUUID()));
    }

    private static Candidate promotedCandidate(Decision decision) {
        return assertInstanceOf(Decision.Promote.class, decision, decision.reason()).candidate();
    }

    @Test
    void withNothingPromotedTheBestOnTheLatestEvaluatedEvalSetIsPromoted() {
        List<Candidate> candidates = List.of(
                candidate("r1", "c1", 90, EVAL_SET_B, 1),
                candidate("r2", "c1", 60, EVAL_SET_A, 2),
                candidate("r2", "c2", 70, EVAL_SET_A, 3));
        Candidate chosen = promotedCandidate(policy.decide(Optional.empty(), candidates));
        assertEquals("r2/c2", chosen.runId() + "/" + chosen.checkpoint());
        assertInstanceOf(Decision.Keep.class, policy.decide(Optional.empty(), List.of()));
    }

    @Test
    void aCandidateMustBeatThePromotedF1ByMoreThanTheMargin() {
        Optional<Promotion> promoted = current("r1", "c1", 70.0, EVAL_SET_A, false);
        assertInstanceOf(Decision.Keep.class,
                policy.decide(promoted, List.of(candidate("r2", "c1", 71.0, EVAL_SET_A, 1))), "exactly the margin");
        assertInstanceOf(Decision.Keep.class,
                policy.decide(promoted, List.of(candidate("r2", "c1", 70.5, EVAL_SET_A, 1))), "below the margin");
        Candidate chosen = promotedCandidate(policy.decide(promoted, List.of(
                candidate("r2", "c1", 71.5, EVAL_SET_A, 1), candidate("r2", "c2", 73.0, EVAL_SET_A, 2))));
        assertEquals("c2", chosen.checkpoint());
    }

    @Test
    void scoresOnAnotherEvalSetNeverCompete() {
        Optional<Promotion> promoted = current("r1", "c1", 40.0, EVAL_SET_A, false);
        Decision decision = policy.decide(promoted, List.of(candidate("r2", "c1", 99.0, EVAL_SET_B, 1)));
        assertInstanceOf(Decision.Keep.class, decision);
        assertTrue(decision.reason().contains(EVAL_SET_A), decision.reason());
    }

    @Test
    void aPinnedAdapterStaysWhateverComes() {
        Optional<Promotion> pinned = current("r1", "c1", 40.0, EVAL_SET_A, true);
        assertInstanceOf(Decision.Keep.class,
                policy.decide(pinned, List.of(candidate("r2", "c1", 99.0, EVAL_SET_A, 1))));
        Optional<Promotion> pinnedUnevaluated = current("r1", "c1", null, null, true);
        assertInstanceOf(Decision.Keep.class,
                policy.decide(pinnedUnevaluated, List.of(candidate("r2", "c1", 99.0, EVAL_SET_A, 1))));
    }

    @Test
    void thePromotedCheckpointDoesNotCompeteWithItselfAndTiesAreStable() {
        Optional<Promotion> promoted = current("r1", "c1", 70.0, EVAL_SET_A, false);
        assertInstanceOf(Decision.Keep.class,
                policy.decide(promoted, List.of(candidate("r1", "c1", 95.0, EVAL_SET_A, 9))),
                "a re-evaluation of the promoted checkpoint is not a rival");
        PromotionPolicy noMargin = new PromotionPolicy(0);
        List<Candidate> tied = List.of(candidate("r3", "c1", 80, EVAL_SET_A, 5), candidate("r2", "c9", 80,
                EVAL_SET_A, 4));
        assertEquals("r2", promotedCandidate(noMargin.decide(promoted, tied)).runId(), "earlier evaluation wins");
        assertEquals("r2", promotedCandidate(noMargin.decide(promoted, List.of(tied.get(1), tied.get(0)))).runId());
        Optional<Promotion> equal = current("r2", "c9", 80.0, EVAL_SET_A, false);
        assertInstanceOf(Decision.Keep.class, noMargin.decide(equal, tied), "an equal F1 does not replace it");
    }

    @Test
    void theMarginMustBeAnF1Difference() {
        assertThrows(IllegalArgumentException.class, () -> new PromotionPolicy(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new PromotionPolicy(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new PromotionPolicy(101));
    }
}
