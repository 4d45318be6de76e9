package dev.tuneloop.model.qwen2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.tuneloop.model.NoGradManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The split decode product gives the values of one {@code linear}, and is used only where it may be. */
class RowSplitGemvTest {
    private NoGradManager scope;
    private NDManager m;

    @BeforeEach
    void setUp() {
        scope = new NoGradManager();
        m = scope.manager();
    }

    @AfterEach
    void tearDown() {
        scope.close();
    }

    private static NDArray plain(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    private static void assertSame(NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape());
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double maxDiff = 0;
        for (int i = 0; i < e.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(e[i] - a[i]));
        }
        assertArrayEquals(e, a, 1e-5f, "max |diff| " + maxDiff);
    }

    @Test
    void splitProductEqualsOneLinearWithAndWithoutBias() {
        assertTrue(Runtime.getRuntime().availableProcessors() > 1, "the split needs 2+ cores; this machine has 1");
        NDArray w = m.randomNormal(new Shape(4865, 896)); // odd row count: the parts differ by one row
        NDArray b = m.randomNormal(new Shape(4865));
        RowSplitGemv gemv = new RowSplitGemv();
        for (Shape xs : new Shape[] {new Shape(1, 896), new Shape(1, 1, 896)}) {
            NDArray x = m.randomNormal(xs);
            long before = RowSplitGemv.splitCalls();
            assertSame(plain(x, w, b), gemv.linear(x, w, b));
            assertSame(plain(x, w, null), gemv.linear(x, w, null));
            assertEquals(before + 2, RowSplitGemv.splitCalls(), "both products were split");
        }
    }

    @Test
    void notSplitForSeveralRowsSmallWeightsOrWithGradMode() {
        NDArray w = m.randomNormal(new Shape(4864, 896));
        RowSplitGemv gemv = new RowSplitGemv();
        long before = RowSplitGemv.splitCalls();
        NDArray rows = m.randomNormal(new Shape(2, 896));
        assertSame(plain(rows, w, null), gemv.linear(rows, w, null));
        NDArray small = m.randomNormal(new Shape(128, 896));
        NDArray x = m.randomNormal(new Shape(1, 896));
        assertSame(plain(x, small, null), gemv.linear(x, small, null));
        JniUtils.setGradMode(true);
        assertSame(plain(x, w, null), gemv.linear(x, w, null));
        assertEquals(before, RowSplitGemv.splitCalls(), "none of the three was split");
    }

    @Test
    void aReplacedWeightIsSplitAnewAndMergesAreSeen() {
        NDArray x = m.randomNormal(new Shape(1, 896));
        NDArray w1 = m.randomNormal(new Shape(4864, 896));
        NDArray w2 = m.randomNormal(new Shape(4864, 896));
        RowSplitGemv gemv = new RowSplitGemv();
        assertSame(plain(x, w1, null), gemv.linear(x, w1, null));
        assertSame(plain(x, w2, null), gemv.linear(x, w2, null));
        w2.addi(1f); // in place, as a LoRA merge does: the cached views see it
        assertSame(plain(x, w2, null), gemv.linear(x, w2, null));
    }

    @Test
    void anInterruptedCallerStillGetsTheWholeResultAndKeepsItsInterrupt() {
        NDArray x = m.randomNormal(new Shape(1, 896));
        NDArray w = m.randomNormal(new Shape(4864, 896));
        RowSplitGemv gemv = new RowSplitGemv();
        NDArray expected = plain(x, w, null);
        Thread.currentThread().interrupt();
        try {
            assertSame(expected, gemv.linear(x, w, null));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
    }
}
