package dev.tuneloop.inference;

import dev.tuneloop.model.text.QwenTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Generated ids turned into text as they come, for streaming and stop sequences. Special tokens are skipped. What
 * {@link #push} returns is final: an incomplete UTF-8 character (decoded as U+FFFD) and a tail that could still
 * become a stop sequence are held back until the next token settles them. Text from a stop sequence on is never
 * emitted. Not thread-safe (one generating thread feeds it).
 */
public final class TextStream {
    private final QwenTokenizer tokenizer;
    private final List<String> stops;
    private final List<Long> ids = new ArrayList<>();
    private String text = "";
    private int emitted;
    private boolean stopped;

    public TextStream(QwenTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stops);
    }

    /** Adds one id; returns the text that became final (maybe empty). */
    public String push(long id) {
        if (stopped) {
            return "";
        }
        ids.add(id);
        text = tokenizer.decodeSkippingSpecial(ids.stream().mapToLong(Long::longValue).toArray());
        int cut = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            stopped = true;
            text = text.substring(0, cut);
            return take(text.length());
        }
        int safe = text.length();
        while (safe > emitted && text.charAt(safe - 1) == '\uFFFD') {
            safe--;
        }
        safe = Math.min(safe, text.length() - heldForStop());
        return take(safe);
    }

    /** The rest once generation ended (an incomplete character is emitted as it decodes). */
    public String finish() {
        return take(text.length());
    }

    /** True once a stop sequence appeared: generation should end. */
    public boolean stopped() {
        return stopped;
    }

    /** All text so far (up to a stop sequence). */
    public String text() {
        return text;
    }

    private String take(int end) {
        if (end <= emitted) {
            return "";
        }
        String out = text.substring(emitted, end);
        emitted = end;
        return out;
    }

    /** Length of the longest tail of the text that is a proper prefix of a stop sequence. */
    private int heldForStop() {
        int held = 0;
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, text.length()); n > held; n--) {
                if (text.endsWith(stop.substring(0, n))) {
                    held = n;
                    break;
                }
            }
        }
        return held;
    }
}
