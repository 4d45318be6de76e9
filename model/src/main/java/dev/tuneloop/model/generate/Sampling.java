package dev.tuneloop.model.generate;

/**
 * How the next token is chosen: greedy (arg max) at temperature 0, otherwise drawn from
 * {@code softmax(logits / temperature)} restricted to the smallest set of most likely tokens whose probabilities sum
 * to at least {@code topP} (nucleus sampling, as Hugging Face's {@code TopPLogitsWarper} keeps it).
 *
 * @param seed seeds the row's own random stream, so a request with a seed draws the same tokens again
 */
public record Sampling(double temperature, double topP, long seed) {
    public static final Sampling GREEDY = new Sampling(0, 1, 0);

    public Sampling {
        if (!(temperature >= 0) || temperature > 100) {
            throw new IllegalArgumentException("temperature " + temperature + " must be in [0, 100]");
        }
        if (!(topP > 0) || topP > 1) {
            throw new IllegalArgumentException("top_p " + topP + " must be in (0, 1]");
        }
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
