package dev.tuneloop.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW as {@code torch.optim.AdamW} computes it (decoupled weight decay, bias-corrected moments), over named
 * parameters. The moments are plain arrays so a resume state can save and restore them exactly. DJL's own optimizers
 * keep their state private, and its {@code optClipGrad} clamps values instead of clipping the global norm.
 */
public final class AdamW {
    private final Map<String, Parameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    public AdamW(Map<String, Parameter> params, double weightDecay, NDManager manager) {
        this(params, 0.9, 0.999, 1e-8, weightDecay, manager);
    }

    public AdamW(Map<String, Parameter> params, double beta1, double beta2, double eps, double weightDecay,
            NDManager manager) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        params.forEach((name, p) -> {
            expAvg.put(name, manager.zeros(p.getArray().getShape()));
            expAvgSq.put(name, manager.zeros(p.getArray().getShape()));
        });
    }

    /**
     * Global L2 norm of all gradients, and (when {@code maxNorm > 0}) scales them so it is at most {@code maxNorm}, as
     * {@code torch.nn.utils.clip_grad_norm_} does (coefficient {@code maxNorm / (norm + 1e-6)}, capped at 1).
     */
    public double clipGradNorm(double maxNorm) {
        double sumSq = 0;
        for (Parameter p : params.values()) {
            try (NDArray g = p.getArray().getGradient();
                    NDArray squares = g.square();
                    NDArray sum = squares.sum()) {
                sumSq += sum.getFloat();
            }
        }
        double norm = Math.sqrt(sumSq);

        if (maxNorm > 0 && Double.isFinite(norm)) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) {
                for (Parameter p : params.values()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        g.muli((float) coef);
                    }
                }
            }
        }
        return norm;
    }

    /** One update at learning rate {@code lr}, then zeroes the gradients. */
    public void step(double lr) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            step++;
            double bc1 = 1 - Math.pow(beta1, step);
            double bc2 = 1 - Math.pow(beta2, step);
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                NDArray p = e.getValue().getArray();
                NDArray m = expAvg.get(e.getKey());
                NDArray v = expAvgSq.get(e.getKey());
                // Every temporary is closed here: results attach to the parameter's manager, which lives as long
                // as the model, so an unclosed one would leak five gradient-sized arrays per parameter and step.
                try (NDArray g = p.getGradient();
                        NDArray gScaled = g.mul((float) (1 - beta1));
                        NDArray gSquared = g.square()) {
                    if (weightDecay != 0) {
                        p.muli((float) (1 - lr * weightDecay));
                    }
                    m.muli((float) beta1).addi(gScaled);
                    v.muli((float) beta2).addi(gSquared.muli((float) (1 - beta2)));
                    // p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
                    try (NDArray denom = v.sqrt().divi((float) Math.sqrt(bc2)).addi((float) eps);
                            NDArray update = m.div(denom)) {
                        p.subi(update.muli((float) (lr / bc1)));
                    }
                    zero(g); // for the next accumulation
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Zeroes all gradients without updating (e.g. after a skipped step). */
    public void zeroGrad() {
        for (Parameter p : params.values()) {
            try (NDArray g = p.getArray().getGradient()) {
                zero(g);
            }
        }
    }

    /**
     * A fill, not {@code g - g}: a NaN or infinity must not survive into the next accumulation. The scope closes the
     * scalar array DJL's indexer creates for the fill value, which would otherwise stay with the model's manager.
     */
    private static void zero(NDArray g) {
        try (NDScope scope = new NDScope()) {
            g.set(new NDIndex("..."), 0f);
        }
    }

    public long stepCount() {
        return step;
    }

    public Map<String, NDArray> expAvg() {
        return expAvg;
    }

    public Map<String, NDArray> expAvgSq() {
        return expAvgSq;
    }

    /** Restores the moments and step count saved in a resume state. */
    public void restore(long stepCount, Map<String, float[]> m, Map<String, float[]> v) {
        this.step = stepCount;
        for (String name : params.keySet()) {
            if (!m.containsKey(name) || !v.containsKey(name)) {
                throw new IllegalArgumentException("resume state has no optimizer moments for " + name);
            }
            expAvg.get(name).set(m.get(name));
            expAvgSq.get(name).set(v.get(name));
        }
    }
}
