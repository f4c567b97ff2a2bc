package dev.transferengine.core;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's own options: one reader, strict values, unknown keys refused, all before anything native opens. */
class EngineSettingsTest {
    private static EngineSettings read(Map<String, String> options) {
        TransferEngine.Builder b = TransferEngine.builder().provider("loopback");
        options.forEach(b::providerOption);
        try (TransferEngine e = b.build()) {
            return ((DefaultTransferEngine) e).settings();
        }
    }

    private static InvalidRequestException refused(Map<String, String> options) {
        TransferEngine.Builder b = TransferEngine.builder().provider("loopback");
        options.forEach(b::providerOption);
        return assertThrows(InvalidRequestException.class, b::build, options.toString());
    }

    @Test
    void defaults() {
        EngineSettings s = read(Map.of());
        assertEquals(ThreadingMode.DEDICATED, s.threadingMode());
        assertEquals(10_000_000L, s.idleGraceNanos());
        assertEquals(4, s.copyStreams());
        assertTrue(s.cudaIpc());
        assertNull(s.countersFile());
        assertEquals(new StagingSettings(4L << 20, 8), s.staging());
    }

    @Test
    void valuesAreReadTrimmedAndInAnyCase() {
        EngineSettings s = read(Map.of("idleGraceMicros", " 0 ", "copyStreams", "16", "cudaIpc", "FALSE",
                "staging.slotBytes", "65536", "staging.slots", "3"));
        assertEquals(0, s.idleGraceNanos());
        assertEquals(16, s.copyStreams());
        assertFalse(s.cudaIpc());
        assertEquals(new StagingSettings(65536, 3), s.staging());
    }

    @Test
    void aMisspeltEngineOptionIsRefusedWithTheKnownOnes() {
        InvalidRequestException e = refused(Map.of("copyStream", "2"));
        assertEquals("unknown engine option 'copyStream'; known: [coalesceCopies, copyStreams, countersFile, cudaIpc, "
                + "idleGraceMicros, staging.slotBytes, staging.slots, threadingMode]", e.getMessage());
        refused(Map.of("staging.slotbytes", "65536"));
    }

    /** Before: any cudaIpc value but "false" meant true, and a bad staging value failed after the provider opened. */
    @Test
    void badValuesNameTheKey() {
        assertEquals("cudaIpc must be true or false, got 'flase'", refused(Map.of("cudaIpc", "flase")).getMessage());
        assertTrue(refused(Map.of("staging.slots", "0")).getMessage().startsWith("staging.slots must be in 1..1024"));
        assertTrue(refused(Map.of("staging.slotBytes", "1K")).getMessage().startsWith("staging.slotBytes must be an"));
        assertTrue(refused(Map.of("threadingMode", "fast")).getMessage().startsWith("threadingMode must be one of"));
    }

    @Test
    void providerKeysAreLeftToTheirProviders() {
        EngineSettings s = read(Map.of("loopback.reorder", "true", "libfabric.provider", "tcp"));
        assertEquals(4, s.copyStreams());
    }
}
