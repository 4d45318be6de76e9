package dev.tuneloop.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SvgChartTest {

    @Test
    void ticksFollowOneTwoFiveStepsAndCoverTheRange() {
        assertArrayEquals(new double[] {0, 50, 100, 150, 200, 250, 300}, SvgChart.niceTicks(1, 300, 6, 0), 1e-12);
        assertArrayEquals(new double[] {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5}, SvgChart.niceTicks(0.62, 3.41, 5, 0),
                1e-12);
        assertArrayEquals(new double[] {40, 45, 50, 55, 60}, SvgChart.niceTicks(41.2, 57.1, 5, 0), 1e-12);
        double[] lr = SvgChart.niceTicks(0, 2.13e-4, 5, 0);
        assertArrayEquals(new double[] {0, 5e-5, 1e-4, 1.5e-4, 2e-4, 2.5e-4}, lr, 1e-18);
        assertEquals("[0, 5e-5, 1e-4, 1.5e-4, 2e-4, 2.5e-4]", Arrays.toString(SvgChart.tickLabels(lr)));
        assertEquals("[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]",
                Arrays.toString(SvgChart.tickLabels(SvgChart.niceTicks(0.62, 3.41, 5, 0))));
        assertEquals("[0, 5000, 10000, 15000, 20000]",
                Arrays.toString(SvgChart.tickLabels(SvgChart.niceTicks(1, 20_000, 6, 0))));
        assertEquals("[0.10, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16]",
                Arrays.toString(SvgChart.tickLabels(SvgChart.niceTicks(0.1, 0.16, 5, 0))));
        assertArrayEquals(new double[] {0, 1, 2}, SvgChart.niceTicks(0.5, 1.5, 6, 1), 0, "steps: no tick at 0.2");
    }

    @Test
    void downsamplingKeepsMinimumAndMaximumOfEveryBucket() {
        int n = 10_001;
        double[] y = IntStream.range(0, n).mapToDouble(i -> 1 + 0.01 * Math.sin(i)).toArray();
        y[7_777] = 42;
        y[123] = -3;
        int[] all = IntStream.range(0, n).toArray();
        int[] kept = SvgChart.downsample(all, y, 2000);
        assertTrue(kept.length <= 2000 && kept.length >= 1000, "kept " + kept.length);
        assertTrue(Arrays.stream(kept).anyMatch(i -> i == 7_777), "the spike survives");
        assertTrue(Arrays.stream(kept).anyMatch(i -> i == 123), "the dip survives");
        for (int k = 1; k < kept.length; k++) {
            assertTrue(kept[k] > kept[k - 1], "indices stay in order");
        }
        assertArrayEquals(new int[] {0, 1, 2}, SvgChart.downsample(new int[] {0, 1, 2}, y, 2000));
    }

    @Test
    void singlePointIsDrawnAsAMarker() {
        String svg = new SvgChart("one", "step", "loss", 460, 300)
                .series("loss", "#000000", new double[] {12}, new double[] {2.31}, false, null)
                .render();
        assertEquals(1, svg.split("<circle", -1).length - 1, svg);
        assertTrue(!svg.contains("<path"), "no line through a single point");
        assertTrue(svg.contains(">2.31<") || svg.contains(">2.0<") || svg.contains(">2.5<"), svg);
    }
}
