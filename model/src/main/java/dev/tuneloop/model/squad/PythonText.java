package dev.tuneloop.model.squad;

import java.util.ArrayList;
import java.util.List;

/**
 * The Python 3 {@code str} operations the official SQuAD script relies on, on code points: {@code str.lower()},
 * {@code str.isspace()}/{@code str.split()}, and the word characters of {@code re}'s {@code \b}.
 *
 * <p>Java's own operations differ: {@code String.toLowerCase} decides the final sigma with a word
 * {@code BreakIterator}, {@code Character.isWhitespace} excludes NBSP and includes nothing above U+3000 the same
 * way, and {@code \b} with {@code UNICODE_CHARACTER_CLASS} counts combining marks, connector punctuation and
 * joiners as word characters while Python does not (and misses {@code ²}, which Python counts). The character
 * properties come from Java's Unicode tables (13.0 in Java 17); Python 3.11 uses Unicode 14.0, so code points that
 * were unassigned in 13.0, and U+1734 (recategorised in 14.0), may differ — nowhere else (see PythonTextTest).
 */
final class PythonText {
    private PythonText() {}

    /** Python {@code str.isspace()}: bidirectional class WS, B or S, or general category Zs. */
    static boolean isSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                    0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Python {@code str.split()} with no separator: runs of {@link #isSpace} characters separate tokens. */
    static List<String> split(String s) {
        List<String> tokens = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (isSpace(cp)) {
                if (start >= 0) {
                    tokens.add(s.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            tokens.add(s.substring(start));
        }
        return tokens;
    }

    /**
     * A word character of Python's {@code re} on str patterns: {@code str.isalnum()} or '_'. isalnum is a letter
     * (categories L*) or a character with a numeric type (Nd, Nl, No; the CJK ideographs with numeric values are
     * letters already).
     */
    static boolean isWordChar(int cp) {
        if (cp == '_' || Character.isLetter(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    /**
     * Python {@code str.lower()}: the full lowercase mapping, which differs from the simple one only for U+0130
     * (→ "i̇"), plus the Final_Sigma rule for U+03A3 as CPython implements it (handle_capital_sigma).
     */
    static String lower(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (cp == 0x130) {
                out.append("i\u0307");
            } else if (cp == 0x3A3) {
                out.append(isFinalSigma(s, i) ? '\u03C2' : '\u03C3');
            } else {
                out.appendCodePoint(Character.toLowerCase(cp));
            }
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    /** \p{cased} \p{case-ignorable}* U+03A3 !(\p{case-ignorable}* \p{cased}) */
    private static boolean isFinalSigma(String s, int at) {
        int j = at;
        int before = -1;
        while (j > 0) {
            int cp = s.codePointBefore(j);
            j -= Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                before = cp;
                break;
            }
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        for (j = at + 1; j < s.length(); ) {
            int cp = s.codePointAt(j);
            if (!isCaseIgnorable(cp)) {
                return !isCased(cp);
            }
            j += Character.charCount(cp);
        }
        return true;
    }

    /** Unicode Cased: Lowercase, Uppercase (both including their Other_ properties) or Lt. */
    static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /** Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet or Single_Quote. */
    static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                    Character.MODIFIER_SYMBOL:
                return true;
            default:
                break;
        }
        return switch (cp) {
            // Single_Quote, MidNumLet, MidLetter
            case 0x27, 0x2E, 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4,
                    0x2027, 0xFE13, 0xFE55, 0xFF1A -> true;
            default -> false;
        };
    }
}
