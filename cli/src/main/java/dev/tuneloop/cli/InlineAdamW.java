package dev.tuneloop.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) with global-norm clipping, on plain NDArray ops.
 * TODO(train): use train.AdamW
 */
final class InlineAdamW {
    private static final Logger LOG = LoggerFactory.getLogger(InlineAdamW.class);
    private static final float LR = 2e-4f;
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPS = 1e-8f;
    private static final float WEIGHT_DECAY = 0.01f;

    private final List<String> names;
    private final List<NDArray> params;
    private final List<NDArray> m;
    private final List<NDArray> v;
    private int t;

    InlineAdamW(Map<String, Parameter> parameters, NDManager manager) {
        names = List.copyOf(parameters.keySet());
        params = parameters.values().stream().map(Parameter::getArray).toList();
        m = params.stream().map(p -> manager.zeros(p.getShape())).toList();
        v = params.stream().map(p -> manager.zeros(p.getShape())).toList();
    }

    /**
     * Clips the gradients to a global L2 norm of {@code maxNorm}, updates, zeroes them; returns the norm. A non-finite
     * norm skips the update (as loss-scaling trainers do) and names the tensors it came from.
     */
    double clipAndStep(double maxNorm) {
        t++;
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDScope scope = new NDScope()) {
            List<NDArray> grads = params.stream().map(NDArray::getGradient).toList();
            double sumSq = 0;
            List<String> nonFinite = new ArrayList<>();
            for (int i = 0; i < grads.size(); i++) {
                double sq = grads.get(i).square().sum().getFloat();
                if (!Double.isFinite(sq)) {
                    nonFinite.add(names.get(i) + " (max |g| " + grads.get(i).abs().max().getFloat() + ")");
                }
                sumSq += sq;
            }
            double norm = Math.sqrt(sumSq);
            if (!nonFinite.isEmpty()) {
                LOG.warn("step {}: gradient norm {}; update skipped; non-finite sum of squares in {} tensor(s): {}", t,
                        norm, nonFinite.size(), nonFinite.size() <= 4 ? nonFinite : nonFinite.subList(0, 4) + " …");
                t--;
                NDIndex all = new NDIndex("...");
                grads.forEach(g -> g.set(all, 0f));
                return norm;
            }
            float clip = norm > maxNorm ? (float) (maxNorm / (norm + 1e-6)) : 1f;
            float bc1 = (float) (1 - Math.pow(BETA1, t));
            float bc2 = (float) (1 - Math.pow(BETA2, t));
            for (int i = 0; i < params.size(); i++) {
                NDArray g = grads.get(i);
                if (clip < 1f) {
                    g.muli(clip);
                }
                m.get(i).muli(BETA1).addi(g.mul(1 - BETA1));
                v.get(i).muli(BETA2).addi(g.square().muli(1 - BETA2));
                NDArray update = m.get(i).div(bc1).divi(v.get(i).div(bc2).sqrt().addi(EPS)).muli(LR);
                params.get(i).muli(1 - LR * WEIGHT_DECAY).subi(update);
                g.subi(g);
            }
            return norm;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }
}
