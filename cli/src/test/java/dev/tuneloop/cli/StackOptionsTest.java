package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code stack} and {@code demo} refuse contradictory or unknown options before starting anything. */
class StackOptionsTest {
    @Test
    void stackNeedsTheUpVerb() {
        Args.UsageException e = assertThrows(Args.UsageException.class, () -> StackCommand.run(new String[] {"down"}));
        assertTrue(e.getMessage().contains("usage: stack up"), e.getMessage());
    }

    @Test
    void anExternalBrokerAndALocalPortContradictEachOther() {
        Args.UsageException e = assertThrows(Args.UsageException.class, () -> StackCommand.run(
                new String[] {"up", "--kafka", "broker:9092", "--kafka-port", "9092"}));
        assertEquals("stack up: --kafka uses an external broker; --kafka-port is for the local one", e.getMessage());
    }

    @Test
    void anExternalS3NeedsItsCredentialsByName() {
        Args.UsageException e = assertThrows(Args.UsageException.class, () -> StackCommand.run(
                new String[] {"up", "--s3", "http://minio:9000"}));
        assertEquals("stack up: missing required option --s3-access-key", e.getMessage());
    }

    @Test
    void unknownOptionsAreNamed() {
        Args.UsageException e = assertThrows(Args.UsageException.class,
                () -> DemoCommand.run(new String[] {"--modle", "tiny"}));
        assertTrue(e.getMessage().contains("--modle"), e.getMessage());
    }
}
