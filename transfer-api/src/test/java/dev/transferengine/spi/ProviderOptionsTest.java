package dev.transferengine.spi;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ProviderOptions}: the map, then {@code te.<key>}, then the default; typed, range-checked, strict on keys. */
class ProviderOptionsTest {
    private static final String FLAG = "demo.flag";
    private static final String COUNT = "demo.count";
    private static final String DEPTH = "demo.depth";
    private static final String MODE = "demo.mode";
    private static final String NAME = "demo.name";
    private static final Set<String> KEYS = Set.of(FLAG, COUNT, DEPTH, MODE, NAME);

    @AfterEach
    void clearProperties() {
        for (String key : KEYS) {
            System.clearProperty("te." + key);
        }
    }

    private static ProviderOptions read(Map<String, String> options) {
        return new ProviderOptions("demo", options, KEYS);
    }

    @Test
    void theMapWinsOverTheSystemPropertyWhichWinsOverTheDefault() {
        assertEquals(7, read(Map.of()).longValue(COUNT, 7, 0, 100), "nothing set: the default");
        System.setProperty("te." + COUNT, " 42 ");
        assertEquals(42, read(Map.of()).longValue(COUNT, 7, 0, 100), "the property, trimmed");
        assertEquals(3, read(Map.of(COUNT, "3")).longValue(COUNT, 7, 0, 100), "the map");
        assertEquals(" x ".trim(), read(Map.of(NAME, " x ")).string(NAME, "d"));
        assertEquals("d", read(null).string(NAME, "d"), "a null map reads as empty");
        assertNull(read(Map.of()).value(NAME));
        assertEquals("", read(Map.of(NAME, "  ")).string(NAME, "d"), "a blank string is returned as it is");
    }

    @Test
    void booleansAcceptTrueAndFalseInAnyCaseOnly() {
        assertTrue(read(Map.of(FLAG, "TRUE")).bool(FLAG, false));
        assertFalse(read(Map.of(FLAG, "false")).bool(FLAG, true));
        assertTrue(read(Map.of()).bool(FLAG, true));
        System.setProperty("te." + FLAG, "True");
        assertTrue(read(Map.of()).bool(FLAG, false));
        for (String bad : new String[]{"yes", "1", "", "tru"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> read(Map.of(FLAG, bad)).bool(FLAG, false), bad);
            assertEquals(FLAG + " must be true or false, got '" + bad + "'", e.getMessage());
        }
    }

    @Test
    void integersAreRangeCheckedNamingKeyValueAndRange() {
        ProviderOptions o = read(Map.of(COUNT, "100", DEPTH, "-1"));
        assertEquals(100, o.longValue(COUNT, 0, 0, 100), "max is inclusive");
        assertEquals(-1, o.intValue(DEPTH, 0, -1, 5), "min is inclusive");

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of(COUNT, "101")).longValue(COUNT, 0, 0, 100));
        assertEquals(COUNT + " must be in 0..100, got 101", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> read(Map.of(COUNT, "0")).longValue(COUNT, 5, 1,
                Long.MAX_VALUE));
        assertEquals(COUNT + " must be >= 1, got 0", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> read(Map.of(COUNT, "9")).longValue(COUNT, 5,
                Long.MIN_VALUE, 8));
        assertEquals(COUNT + " must be <= 8, got 9", e.getMessage());
        assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
    }

    @Test
    void intsOutsideTheIntRangeAreRangeErrorsNotWrappedValues() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of(DEPTH, "4294967297")).intValue(DEPTH, 1, 1, 1 << 20));
        assertEquals(DEPTH + " must be in 1..1048576, got 4294967297", e.getMessage());
        e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of(DEPTH, "-9223372036854775808")).intValue(DEPTH, 1, 1, 1 << 20));
        assertTrue(e.getMessage().contains("got -9223372036854775808"), e.getMessage());
    }

    @Test
    void malformedNumbersNameTheKeyTheValueAndTheRange() {
        for (String bad : new String[]{"x", "", "1.5", "0x10", "99999999999999999999"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> read(Map.of(COUNT, bad)).longValue(COUNT, 0, 0, 100), bad);
            assertEquals(COUNT + " must be an integer in 0..100, got '" + bad + "'", e.getMessage());
        }
        System.setProperty("te." + COUNT, "ten");
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of()).longValue(COUNT, 0, 0, 100));
        assertTrue(e.getMessage().contains("'ten'"), "a malformed property is an error too: " + e.getMessage());
    }

    @Test
    void choicesIgnoreCaseAndReturnTheDeclaredSpelling() {
        assertEquals("auto", read(Map.of()).choice(MODE, "auto", "auto", "true", "false"));
        assertEquals("true", read(Map.of(MODE, "TRUE")).choice(MODE, "auto", "auto", "true", "false"));
        assertEquals("Fast", read(Map.of(MODE, "fast")).choice(MODE, "Slow", "Slow", "Fast"));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of(MODE, "maybe")).choice(MODE, "auto", "auto", "true", "false"));
        assertEquals(MODE + " must be one of [auto, true, false], got 'maybe'", e.getMessage());
    }

    @Test
    void anUnknownKeyWithTheProvidersPrefixIsRejectedListingTheKnownOnes() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> read(Map.of("demo.cuont", "3")));
        assertEquals("unknown demo option 'demo.cuont'; known: [demo.count, demo.depth, demo.flag, demo.mode, "
                + "demo.name]", e.getMessage());
        assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
    }

    @Test
    void keysOfOthersAreLeftAlone() {
        Map<String, String> everyone = new HashMap<>();
        everyone.put("threadingMode", "INVOKER");
        everyone.put("staging.slots", "8");
        everyone.put("other.count", "x");
        everyone.put("demonstration.count", "x"); // shares letters, not the "demo." prefix
        everyone.put("demo", "x");
        everyone.put(COUNT, "5");
        assertEquals(5, read(everyone).longValue(COUNT, 0, 0, 10));
    }

    @Test
    void unknownSystemPropertiesAreNotJudged() {
        System.setProperty("te.demo.cuont", "3");
        try {
            assertEquals(1, read(Map.of()).longValue(COUNT, 1, 0, 10));
        } finally {
            System.clearProperty("te.demo.cuont");
        }
    }

    @Test
    void declaringOrReadingAKeyOutsideThePrefixIsAProviderBug() {
        assertThrows(IllegalArgumentException.class, () -> new ProviderOptions("demo", Map.of(), Set.of("other.x")));
        assertThrows(IllegalArgumentException.class, () -> read(Map.of()).bool("demo.undeclared", false));
    }

    @Test
    void checkRangeIsTheSameCheckForValuesFromElsewhere() {
        ProviderOptions.checkRange(DEPTH, 1, 1, 1);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ProviderOptions.checkRange(DEPTH, -5, 0, Long.MAX_VALUE));
        assertEquals(DEPTH + " must be >= 0, got -5", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> ProviderOptions.checkRange(DEPTH, 2, 0, 1));
        assertEquals(DEPTH + " must be in 0..1, got 2", e.getMessage());
    }
}
