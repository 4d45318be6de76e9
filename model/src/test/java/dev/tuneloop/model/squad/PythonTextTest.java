package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PythonText against CPython 3.11.7 over every code point. The expectations were produced with python3 (the
 * generator is the header of python-str.txt). Python 3.11 has Unicode 14.0, Java 17 Unicode 13.0: code points
 * unassigned in Java's tables are out of scope, and U+1734 (Mn in 13.0, Mc in 14.0) is the one assigned exception.
 */
class PythonTextTest {
    /** {@code [c for c in range(0x110000) if chr(c).isspace()]} from python3 3.11.7. */
    private static final int[] PYTHON_ISSPACE = {0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0,
        0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
        0x2029, 0x202f, 0x205f, 0x3000};

    private static final Map<String, BitSet> SETS = new HashMap<>();
    private static final Map<Integer, String> LOWER = new HashMap<>();

    @BeforeAll
    static void loadPythonTables() throws IOException {
        InputStream in = PythonTextTest.class.getResourceAsStream("python-str.txt");
        assertNotNull(in, "test resource python-str.txt");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String section = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                if (line.startsWith("[")) {
                    section = line.substring(1, line.length() - 1);
                    SETS.put(section, new BitSet());
                } else if (section.equals("lower")) {
                    String[] kv = line.split(":");
                    StringBuilder sb = new StringBuilder();
                    for (String hex : kv[1].split(" ")) {
                        sb.appendCodePoint(Integer.parseInt(hex, 16));
                    }
                    LOWER.put(Integer.parseInt(kv[0], 16), sb.toString());
                } else {
                    String[] range = line.split(" ");
                    SETS.get(section).set(Integer.parseInt(range[0], 16), Integer.parseInt(range[1], 16) + 1);
                }
            }
        }
    }

    private static void assertNone(List<String> wrong, String what) {
        assertTrue(wrong.isEmpty(), () -> wrong.size() + " " + what + ", first: "
                + wrong.subList(0, Math.min(20, wrong.size())));
    }

    private static boolean inScope(int cp) {
        return Character.getType(cp) != Character.UNASSIGNED && Character.getType(cp) != Character.SURROGATE;
    }

    @Test
    void isSpaceIsPythonsOverAllCodePoints() {
        List<Integer> ours = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp++) {
            if (PythonText.isSpace(cp)) {
                ours.add(cp);
            }
        }
        List<Integer> python = new ArrayList<>();
        for (int cp : PYTHON_ISSPACE) {
            python.add(cp);
        }
        assertEquals(python, ours);
        // Character.isWhitespace would miss these three
        assertTrue(!Character.isWhitespace(0xA0) && !Character.isWhitespace(0x202F) && !Character.isWhitespace(0x85));
    }

    @Test
    void splitSeparatesOnEveryPythonSpace() {
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g"),
                PythonText.split("\u3000a\u00A0b\u001Cc\u0085d \t\ne\u2028f\u202Fg\u205F"));
        assertEquals(List.of(), PythonText.split(""));
        assertEquals(List.of(), PythonText.split(" \u00A0 "));
        // U+200B ZERO WIDTH SPACE and U+FEFF are not spaces for Python
        assertEquals(List.of("a\u200Bb\uFEFF"), PythonText.split("a\u200Bb\uFEFF"));
    }

    @Test
    void wordCharactersArePythonsForEveryAssignedCodePoint() {
        BitSet python = SETS.get("word");
        List<String> wrong = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp++) {
            if (inScope(cp) && PythonText.isWordChar(cp) != python.get(cp)) {
                wrong.add(Integer.toHexString(cp));
            }
        }
        assertNone(wrong, "code points where \\w differs from Python's");
    }

    @Test
    void lowerIsPythonsForEveryAssignedCodePoint() {
        List<String> wrong = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp++) {
            if (!inScope(cp)) {
                continue;
            }
            String s = new String(Character.toChars(cp));
            String expected = LOWER.getOrDefault(cp, s);
            if (!PythonText.lower(s).equals(expected)) {
                wrong.add(Integer.toHexString(cp));
            }
        }
        assertNone(wrong, "code points lowercased differently from Python");
        assertEquals("i\u0307stanbul", PythonText.lower("\u0130STANBUL"));
    }

    @Test
    void finalSigmaContextIsPythonsForEveryAssignedCodePoint() {
        BitSet notFinalBefore = SETS.get("sigma-not-final-before");
        BitSet finalAfter = SETS.get("sigma-final-after");
        List<String> wrong = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp++) {
            if (!inScope(cp) || cp == 0x1734) {
                continue;
            }
            String c = new String(Character.toChars(cp));
            boolean keepsSigma = PythonText.lower("A\u03A3" + c + "A").charAt(1) == '\u03C3';
            String after = PythonText.lower(c + "\u03A3");
            boolean finalSigma = after.charAt(after.length() - 1) == '\u03C2';
            if (keepsSigma != notFinalBefore.get(cp) || finalSigma != finalAfter.get(cp)) {
                wrong.add(Integer.toHexString(cp));
            }
        }
        assertNone(wrong, "code points changing the final-sigma decision differently from Python");
    }

    @Test
    void finalSigmaCasesWherePythonAndJavaDisagree() {
        // expectations from python3: 'ΑΣ΄Α'.lower() == 'ασ΄α' ; Java's toLowerCase gives 'ας΄α'
        assertEquals("\u03B1\u03C3\u0384\u03B1", PythonText.lower("\u0391\u03A3\u0384\u0391"));
        assertEquals("\u03BF\u03B4\u03BF\u03C2.", PythonText.lower("\u039F\u0394\u039F\u03A3."));
        assertEquals("a.\u03C2", PythonText.lower("A.\u03A3"));
        assertEquals("\u03C3", PythonText.lower("\u03A3"));
        assertEquals("\u03B1\u03C3'\u03B2", PythonText.lower("\u0391\u03A3'\u0392"));
    }
}
