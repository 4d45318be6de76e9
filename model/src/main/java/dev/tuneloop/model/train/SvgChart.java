package dev.tuneloop.model.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * A line chart as one inline SVG element (well-formed XML, no scripts, no external references): axes with 1-2-5 tick
 * values, gridlines, axis titles, a legend, dashed reference lines and a highlighted point. Non-finite values are not
 * drawn. A series longer than {@link #MAX_DRAWN} points is drawn from the minimum and the maximum of each of
 * {@code MAX_DRAWN / 2} buckets, so spikes survive the downsampling.
 */
final class SvgChart {
    static final int MAX_DRAWN = 2000;

    private static final int LEFT = 68;
    private static final int RIGHT = 20;
    private static final int TOP = 34; // room for the legend
    private static final int TOP_WITHOUT_LEGEND = 14;
    private static final int BOTTOM = 50;

    private record Series(String name, String color, double[] x, double[] y, boolean markers, String[] tips) {
    }

    private record Reference(String label, String legend, double y, String color, boolean labelBelow) {
    }

    private record Highlight(double x, double y, String label) {
    }

    private final String ariaLabel;
    private final String xTitle;
    private final String yTitle;
    private final int width;
    private final int height;
    private final List<Series> series = new ArrayList<>();
    private final List<Reference> references = new ArrayList<>();
    private Highlight highlight;
    private double yFloor = Double.NEGATIVE_INFINITY;
    private double yCeiling = Double.POSITIVE_INFINITY;
    private double yPadding;
    private boolean integerX;

    /**
     * {@code width} × {@code height} is the viewBox: the SVG scales to its container, so a smaller viewBox shows the
     * same text larger.
     */
    SvgChart(String ariaLabel, String xTitle, String yTitle, int width, int height) {
        if (width < LEFT + RIGHT + 100 || height < TOP + BOTTOM + 60) {
            throw new IllegalArgumentException("chart '" + ariaLabel + "' of " + width + "x" + height
                    + " leaves no room to plot; needs at least " + (LEFT + RIGHT + 100) + "x" + (TOP + BOTTOM + 60));
        }
        this.ariaLabel = ariaLabel;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.width = width;
        this.height = height;
    }

    /** {@code tips} (nullable, one per point) become hover titles of the markers. */
    SvgChart series(String name, String color, double[] x, double[] y, boolean markers, String[] tips) {
        if (x.length != y.length || (tips != null && tips.length != x.length)) {
            throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values, " + y.length
                    + " y values" + (tips == null ? "" : ", " + tips.length + " tips"));
        }
        series.add(new Series(name, color, x, y, markers, tips));
        return this;
    }

    /** A dashed horizontal line across the plot, labelled at its right end; {@code legend} names it in the legend. */
    SvgChart reference(String label, String legend, double y, String color, boolean labelBelow) {
        if (Double.isFinite(y)) {
            references.add(new Reference(label, legend, y, color, labelBelow));
        }
        return this;
    }

    SvgChart highlight(double x, double y, String label) {
        if (Double.isFinite(x) && Double.isFinite(y)) {
            highlight = new Highlight(x, y, label);
        }
        return this;
    }

    /** Keeps the y axis within [floor, ceiling] (e.g. 0–100 for scores) however the ticks round. */
    SvgChart yBounds(double floor, double ceiling) {
        yFloor = floor;
        yCeiling = ceiling;
        return this;
    }

    /** x values are counts (steps): no tick between two integers. */
    SvgChart integerX() {
        integerX = true;
        return this;
    }

    /** Widens the y range by this fraction of it on both sides, so that points and labels keep clear of the edges. */
    SvgChart yPadding(double fraction) {
        yPadding = fraction;
        return this;
    }

    String render() {
        double[] xr = range(true);
        double[] yr = range(false);
        double[] xTicks = niceTicks(xr[0], xr[1], 6, integerX ? 1 : 0);
        double[] yTicks = niceTicks(yr[0], yr[1], 5, 0);
        double x0 = xTicks[0];
        double x1 = xTicks[xTicks.length - 1];
        double y0 = Math.max(yTicks[0], yFloor);
        double y1 = Math.min(yTicks[yTicks.length - 1], yCeiling);
        double plotW = width - LEFT - RIGHT;
        boolean hasLegend = series.size() > 1 || !references.isEmpty() || highlight != null;
        int top = hasLegend ? TOP : TOP_WITHOUT_LEGEND;
        double plotH = height - top - BOTTOM;
        DoubleUnaryOperator sx = v -> LEFT + (v - x0) / (x1 - x0) * plotW;
        DoubleUnaryOperator sy = v -> top + plotH - (v - y0) / (y1 - y0) * plotH;

        StringBuilder svg = new StringBuilder(16_384);
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" role=\"img\" aria-label=\"").append(RunReport.escape(ariaLabel))
                .append("\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"")
                .append(" font-size=\"11\">\n");
        svg.append("<g class=\"grid\" stroke=\"#e5e7eb\" stroke-width=\"1\">");
        for (double t : yTicks) {
            if (t >= y0 && t <= y1) {
                svg.append(line(LEFT, sy.applyAsDouble(t), width - RIGHT, sy.applyAsDouble(t)));
            }
        }
        for (double t : xTicks) {
            svg.append(line(sx.applyAsDouble(t), top, sx.applyAsDouble(t), top + plotH));
        }
        svg.append("</g>\n<g class=\"ticks\" fill=\"#4b5563\">");
        String[] yLabels = tickLabels(yTicks);
        for (int i = 0; i < yTicks.length; i++) {
            if (yTicks[i] >= y0 && yTicks[i] <= y1) {
                svg.append(text(LEFT - 6, sy.applyAsDouble(yTicks[i]) + 4, "end", yLabels[i]));
            }
        }
        String[] xLabels = tickLabels(xTicks);
        for (int i = 0; i < xTicks.length; i++) {
            svg.append(text(sx.applyAsDouble(xTicks[i]), top + plotH + 16, "middle", xLabels[i]));
        }
        svg.append("</g>\n<g stroke=\"#9ca3af\" stroke-width=\"1\">")
                .append(line(LEFT, top + plotH, width - RIGHT, top + plotH)).append(line(LEFT, top, LEFT, top + plotH))
                .append("</g>\n");
        svg.append("<g fill=\"#374151\" font-size=\"12\">")
                .append(text(LEFT + plotW / 2, height - 10, "middle", xTitle))
                .append("<text transform=\"translate(16 ").append(fmt(top + plotH / 2)).append(") rotate(-90)\" ")
                .append("text-anchor=\"middle\">").append(RunReport.escape(yTitle)).append("</text></g>\n");

        for (Reference r : references) {
            double y = sy.applyAsDouble(r.y());
            svg.append("<g stroke=\"").append(r.color()).append("\" fill=\"").append(r.color()).append("\">")
                    .append("<line x1=\"").append(fmt(LEFT)).append("\" y1=\"").append(fmt(y)).append("\" x2=\"")
                    .append(fmt(width - RIGHT)).append("\" y2=\"").append(fmt(y))
                    .append("\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\" opacity=\"0.75\"/>")
                    .append("<text x=\"").append(fmt(width - RIGHT - 4)).append("\" y=\"")
                    .append(fmt(r.labelBelow() ? y + 13 : y - 5)).append("\" text-anchor=\"end\" stroke=\"none\">")
                    .append(RunReport.escape(r.label())).append("</text></g>\n");
        }
        for (Series s : series) {
            drawSeries(svg, s, sx, sy);
        }
        if (highlight != null) {
            double hx = sx.applyAsDouble(highlight.x());
            double hy = sy.applyAsDouble(highlight.y());
            svg.append("<g class=\"best\"><circle cx=\"").append(fmt(hx)).append("\" cy=\"").append(fmt(hy))
                    .append("\" r=\"9\" fill=\"none\" stroke=\"#16a34a\" stroke-width=\"2.5\"/>")
                    .append(text(hx, hy - 14, hx > LEFT + plotW * 0.85 ? "end" : "middle", highlight.label(),
                            " fill=\"#15803d\" font-weight=\"600\""))
                    .append("</g>\n");
        }
        if (hasLegend) {
            legend(svg);
        }
        return svg.append("</svg>").toString();
    }

    private void drawSeries(StringBuilder svg, Series s, DoubleUnaryOperator sx, DoubleUnaryOperator sy) {
        List<Integer> finite = new ArrayList<>();
        for (int i = 0; i < s.x().length; i++) {
            if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                finite.add(i);
            }
        }
        int[] drawn = downsample(finite.stream().mapToInt(Integer::intValue).toArray(), s.y(), MAX_DRAWN);
        if (drawn.length > 1) {
            svg.append("<path fill=\"none\" stroke=\"").append(s.color()).append("\" stroke-width=\"1.8\" ")
                    .append("stroke-linejoin=\"round\" d=\"");
            for (int k = 0; k < drawn.length; k++) {
                svg.append(k == 0 ? 'M' : 'L').append(fmt(sx.applyAsDouble(s.x()[drawn[k]]))).append(' ')
                        .append(fmt(sy.applyAsDouble(s.y()[drawn[k]])));
            }
            svg.append("\"/>\n");
        }
        if (s.markers() || drawn.length == 1) {
            svg.append("<g fill=\"").append(s.color()).append("\" stroke=\"#ffffff\" stroke-width=\"1.5\">");
            for (int i : drawn) {
                svg.append("<circle cx=\"").append(fmt(sx.applyAsDouble(s.x()[i]))).append("\" cy=\"")
                        .append(fmt(sy.applyAsDouble(s.y()[i]))).append("\" r=\"4\">");
                if (s.tips() != null) {
                    svg.append("<title>").append(RunReport.escape(s.tips()[i])).append("</title>");
                }
                svg.append("</circle>");
            }
            svg.append("</g>\n");
        }
    }

    private void legend(StringBuilder svg) {
        double x = LEFT;
        svg.append("<g class=\"legend\" fill=\"#374151\">");
        for (Series s : series) {
            svg.append("<line x1=\"").append(fmt(x)).append("\" y1=\"14\" x2=\"").append(fmt(x + 18))
                    .append("\" y2=\"14\" stroke=\"").append(s.color()).append("\" stroke-width=\"2.5\"/>");
            svg.append(text(x + 24, 18, "start", s.name()));
            x += 40 + 7 * s.name().length();
        }
        for (String legend : references.stream().map(Reference::legend).distinct().toList()) {
            svg.append("<line x1=\"").append(fmt(x)).append("\" y1=\"14\" x2=\"").append(fmt(x + 18))
                    .append("\" y2=\"14\" stroke=\"#6b7280\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>");
            svg.append(text(x + 24, 18, "start", legend));
            x += 40 + 6.5 * legend.length();
        }
        if (highlight != null) {
            svg.append("<circle cx=\"").append(fmt(x + 8)).append("\" cy=\"14\" r=\"6\" fill=\"none\" ")
                    .append("stroke=\"#16a34a\" stroke-width=\"2.5\"/>");
            svg.append(text(x + 20, 18, "start", "best checkpoint"));
        }
        svg.append("</g>\n");
    }

    /** The data range of x or y over all finite values (and reference lines), widened when it is a single value. */
    private double[] range(boolean xAxis) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double v = xAxis ? s.x()[i] : s.y()[i];
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (!xAxis) {
            for (Reference r : references) {
                min = Math.min(min, r.y());
                max = Math.max(max, r.y());
            }
        }
        if (min > max) {
            return new double[] {0, 1};
        }
        if (!xAxis && max > min && yPadding > 0) {
            double pad = (max - min) * yPadding;
            min = min >= 0 ? Math.max(0, min - pad) : min - pad;
            max += pad;
        }
        if (min == max) {
            double pad = min == 0 ? 1 : Math.abs(min) * 0.5;
            boolean nonNegative = min >= 0;
            min -= pad;
            max += pad;
            if (nonNegative) {
                min = Math.max(0, min);
            }
        }
        return new double[] {Math.max(min, yFloorFor(xAxis)), Math.min(max, yCeilingFor(xAxis))};
    }

    private double yFloorFor(boolean xAxis) {
        return xAxis ? Double.NEGATIVE_INFINITY : yFloor;
    }

    private double yCeilingFor(boolean xAxis) {
        return xAxis ? Double.POSITIVE_INFINITY : yCeiling;
    }

    /**
     * Tick values covering [min, max] at a 1-2-5 step giving roughly {@code target} intervals; the first tick is at or
     * below min, the last at or above max; the step is at least {@code minStep}.
     */
    static double[] niceTicks(double min, double max, int target, double minStep) {
        if (!(max > min)) {
            throw new IllegalArgumentException("tick range needs max > min, got [" + min + ", " + max + "]");
        }
        double rough = (max - min) / target;
        double magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
        double fraction = rough / magnitude;
        // The 1-2-5 step nearest to the rough one on a log scale (thresholds at the geometric means).
        double step = (fraction < Math.sqrt(2) ? 1 : fraction < Math.sqrt(10) ? 2 : fraction < Math.sqrt(50) ? 5 : 10)
                * magnitude;
        step = Math.max(step, minStep);
        long first = (long) Math.floor(min / step + 1e-9);
        long last = (long) Math.ceil(max / step - 1e-9);
        double[] ticks = new double[(int) (last - first + 1)];
        for (int i = 0; i < ticks.length; i++) {
            ticks[i] = (first + i) * step; // multiply, never accumulate: 0.1 + 0.2 drifts
        }
        return ticks;
    }

    /**
     * Labels for evenly spaced ticks: fixed-point with as many decimals as the step needs ("0.25", "1200"), or, when
     * the largest tick is below 0.01 or at least 1e6, scientific with trailing zeros dropped ("5e-5", "1.5e-4").
     */
    static String[] tickLabels(double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.max(Math.abs(ticks[0]), 1);
        int stepExponent = (int) Math.floor(Math.log10(step) + 1e-9);
        double maxAbs = 0;
        for (double t : ticks) {
            maxAbs = Math.max(maxAbs, Math.abs(t));
        }
        boolean scientific = maxAbs < 1e-2 || maxAbs >= 1e6;
        String[] labels = new String[ticks.length];
        for (int i = 0; i < ticks.length; i++) {
            double t = ticks[i];
            if (Math.abs(t) < step * 1e-6) {
                labels[i] = "0";
            } else if (scientific) {
                int exponent = (int) Math.floor(Math.log10(Math.abs(t)) + 1e-9);
                int decimals = Math.max(0, exponent - stepExponent);
                String mantissa = String.format(Locale.ROOT, "%." + decimals + "f", t / Math.pow(10, exponent));
                if (mantissa.contains(".")) {
                    mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
                }
                labels[i] = mantissa + "e" + exponent;
            } else {
                labels[i] = String.format(Locale.ROOT, "%." + Math.max(0, -stepExponent) + "f", t);
            }
        }
        return labels;
    }

    /**
     * Indices to draw: all of {@code indices} when there are at most {@code max}, else the positions of the minimum
     * and the maximum of {@code y} within each of {@code max / 2} equal buckets, in index order.
     */
    static int[] downsample(int[] indices, double[] y, int max) {
        if (indices.length <= max) {
            return indices;
        }
        int buckets = max / 2;
        int[] out = new int[buckets * 2];
        int n = 0;
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * indices.length / buckets);
            int to = (int) ((long) (b + 1) * indices.length / buckets);
            int lo = indices[from];
            int hi = indices[from];
            for (int k = from + 1; k < to; k++) {
                int i = indices[k];
                if (y[i] < y[lo]) {
                    lo = i;
                }
                if (y[i] > y[hi]) {
                    hi = i;
                }
            }
            out[n++] = Math.min(lo, hi);
            if (lo != hi) {
                out[n++] = Math.max(lo, hi);
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static String line(double x1, double y1, double x2, double y2) {
        return "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" + fmt(y2) + "\"/>";
    }

    private static String text(double x, double y, String anchor, String content) {
        return text(x, y, anchor, content, "");
    }

    private static String text(double x, double y, String anchor, String content, String attributes) {
        return "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" text-anchor=\"" + anchor + "\"" + attributes + ">"
                + RunReport.escape(content) + "</text>";
    }

    /** A coordinate with one decimal: enough on a 640-wide viewBox, and keeps thousands of points small. */
    private static String fmt(double v) {
        long tenths = Math.round(v * 10);
        return tenths % 10 == 0 ? Long.toString(tenths / 10) : String.format(Locale.ROOT, "%.1f", tenths / 10.0);
    }
}
