package dev.tuneloop.model.squad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PythonFloatTest {
    /**
     * repr(v) printed by python3 3.11.7 for hand-picked values (0..100 scores, the positional/exponent switch at
     * 1e-04/1e-05 and 1e15/1e16, subnormals, powers of two whose round-trip interval is asymmetric), 25 doubles
     * from random bit patterns and 10 random scores (random.seed(20240611)).
     */
    private static final String[] PYTHON_REPR = {
        "100.0", "0.0", "81.234", "56.82119205298013",
        "61.15047296680872", "1e-05", "1.5e-05", "0.0001",
        "0.00012345", "1e+16", "1000000000000000.0", "1.2345678901234568e+17",
        "1e+22", "1e+23", "5e-324", "1.7976931348623157e+308",
        "0.30000000000000004", "0.3333333333333333", "66.66666666666667", "9007199254740992.0",
        "-1.5", "1.152921504606847e+18", "1e+23", "2.2250738585072014e-308",
        "8.98846567431158e+307", "1.5e-323", "1e-07", "233.33333333333334",
        "12345678.9", "-0.001", "8e-323", "3.054936363499605e-151",
        "8.673617379884035e-19", "9.5367431640625e-07", "6.103515625e-05", "0.125",
        "1024.0", "1.8014398509481984e+16", "1.1805916207174113e+21", "1.6069380442589903e+60",
        "1.0463951242053392e+298", "-2.2239649050108196e+85", "2.0532095845172635e+108", "-6.217554322597633e+72",
        "6.953979603744903e+142", "-1576271583.481204", "6.503171038669016e+146", "1.5857673189191353e-287",
        "-8.221863336486e-61", "1.7123553371149197e+67", "-2.1638530463091063e-192", "-2.9219572677923937e+141",
        "9.252761636154696e+193", "-0.08678992737093391", "-3.419513645011445e-83", "7.226450560613817e-205",
        "8.021365036472743e-155", "2.1852629101185172e-58", "1.4784897218736648e-304", "6.194509959718476e+61",
        "-5.425245977872505e+92", "1.0124757898277046e+186", "-2.944446857366267e+84", "1.2086749044087354e+262",
        "-1.5573811799210805e-80", "-5.42808465396562e-107", "37.440338293152166", "93.55102477181092",
        "83.97651239642157", "24.658318501596334", "71.08513717037974", "94.50752865306438",
        "57.142218394924285", "37.03697568093196", "37.70764636134323", "83.39506925487473",
    };

    @Test
    void reprIsPythonsShortestRoundTrip() {
        for (String expected : PYTHON_REPR) {
            double d = Double.parseDouble(expected);
            assertEquals(expected, PythonFloat.repr(d), () -> "repr of the double " + Double.toString(d));
        }
    }

    @Test
    void specialValuesAsJsonDumpsWritesThem() {
        assertEquals("-0.0", PythonFloat.repr(-0.0));
        assertEquals("NaN", PythonFloat.repr(Double.NaN));
        assertEquals("Infinity", PythonFloat.repr(Double.POSITIVE_INFINITY));
        assertEquals("-Infinity", PythonFloat.repr(Double.NEGATIVE_INFINITY));
    }

    @Test
    void javaToStringWouldDiffer() {
        // the reason this class exists: Java 17 prints 1.0E-5, 1.0E16, 2.0E-3 style exponents and "1.0E23"
        assertEquals("1.0E-5", Double.toString(1e-05));
        assertEquals("1e-05", PythonFloat.repr(1e-05));
        assertEquals("100.0", PythonFloat.repr(100.0));
    }
}
