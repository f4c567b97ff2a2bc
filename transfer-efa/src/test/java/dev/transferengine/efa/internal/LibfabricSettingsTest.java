package dev.transferengine.efa.internal;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.efa.LibfabricOptions;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LibfabricSettings#from}: defaults, typed values, ranges and unknown keys; nothing native is opened. */
class LibfabricSettingsTest {

    @Test
    void aMisspeltOptionIsRejectedWithTheKnownKeys() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> LibfabricSettings.from(Map.of(LibfabricOptions.PROVIDER, "tcp", "libfabric.deliverycomplete",
                        "true")));
        assertEquals("unknown libfabric option 'libfabric.deliverycomplete'; known: [libfabric.cudaDevices, "
                + "libfabric.deadPeerRecovery, libfabric.deliveryComplete, libfabric.forceEfaPaths, libfabric.hmem, "
                + "libfabric.hmemDeviceOnly, libfabric.keyTable, "
                + "libfabric.library, libfabric.node, libfabric.path, libfabric.provider, libfabric.retryTimeoutMillis, "
                + "libfabric.stagedReceiveBytes, libfabric.stagedReceives, libfabric.verifyRemoteKeys]", e.getMessage());
    }

    /** A key constant missing from KEYS would make its own option be rejected as unknown. */
    @Test
    void everyKeyConstantOfLibfabricOptionsIsKnown() throws IllegalAccessException {
        Set<String> constants = new TreeSet<>();
        for (Field f : LibfabricOptions.class.getFields()) {
            if (f.getType() == String.class && Modifier.isStatic(f.getModifiers())
                    && ((String) f.get(null)).startsWith("libfabric.")) {
                constants.add((String) f.get(null));
            }
        }
        assertEquals(constants, new TreeSet<>(LibfabricSettings.KEYS));
    }

    @Test
    void keysOfTheEngineAndOtherProvidersAreLeftAlone() {
        LibfabricSettings s = LibfabricSettings.from(Map.of("threadingMode", "INVOKER", "countersFile", "/tmp/x",
                "staging.slots", "4", "verbs.gidIndexx", "1", "loopback.reoder", "true"));
        assertEquals(LibfabricSettings.DEFAULT_PROVIDER, s.provider());
    }

    @Test
    void defaultsAreKept() {
        LibfabricSettings s = LibfabricSettings.from(Map.of(LibfabricOptions.PROVIDER, "shm"));
        assertEquals("shm", s.provider());
        assertNull(s.node());
        assertFalse(s.forceEfaPaths());
        assertNull(s.deliveryComplete());
        assertEquals(64, s.stagedReceives());
        assertEquals(65536, s.stagedReceiveBytes());
        assertEquals(5000, s.retryTimeoutMillis());
        assertNull(s.hmem());
        assertEquals(List.of(), s.cudaDevices());
        assertTrue(s.hmemDeviceOnly());
        assertNull(s.verifyRemoteKeys());
        assertNull(s.keyTable());
    }

    /** The writer-side key check: automatic on shm only, never with provider-chosen keys, forced either way. */
    @Test
    void theKeyTableIsOnForShmUnlessTurnedOff() {
        LibfabricSettings auto = LibfabricSettings.from(Map.of());
        assertTrue(auto.keyTable("shm", false));
        assertFalse(auto.keyTable("tcp;ofi_rxm", false));
        assertFalse(auto.keyTable("efa", false));
        assertFalse(auto.keyTable("shm", true), "provider keys cannot name a table slot");
        LibfabricSettings off = LibfabricSettings.from(Map.of(LibfabricOptions.KEY_TABLE, "false"));
        assertFalse(off.keyTable("shm", false));
        LibfabricSettings on = LibfabricSettings.from(Map.of(LibfabricOptions.KEY_TABLE, "TRUE"));
        assertTrue(on.keyTable("tcp;ofi_rxm", false));
        assertFalse(on.keyTable("tcp;ofi_rxm", true));
        assertMessage(Map.of(LibfabricOptions.KEY_TABLE, "on"),
                "libfabric.keyTable must be one of [auto, true, false], got 'on'");
    }

    @Test
    void deadPeerRecoveryRunsOnlyOnShmWithLibfabric117UnlessTurnedOff() {
        int v117 = 1 << 16 | 17;
        LibfabricSettings auto = LibfabricSettings.from(Map.of());
        assertTrue(auto.deadPeerRecovery("shm", v117));
        assertFalse(auto.deadPeerRecovery("shm", 1 << 16 | 18), "another release: another region layout");
        assertFalse(auto.deadPeerRecovery("tcp;ofi_rxm", v117));
        assertFalse(auto.deadPeerRecovery("efa", v117));
        assertFalse(LibfabricSettings.from(Map.of(LibfabricOptions.DEAD_PEER_RECOVERY, "false"))
                .deadPeerRecovery("shm", v117));
    }

    @Test
    void valuesAreTrimmedTypedAndCaseInsensitive() {
        LibfabricSettings s = LibfabricSettings.from(Map.of(LibfabricOptions.PROVIDER, " tcp;ofi_rxm ",
                LibfabricOptions.NODE, "127.0.0.1", LibfabricOptions.FORCE_EFA_PATHS, "TRUE",
                LibfabricOptions.DELIVERY_COMPLETE, "False", LibfabricOptions.STAGED_RECEIVES, "1",
                LibfabricOptions.RETRY_TIMEOUT_MILLIS, "3600000", LibfabricOptions.HMEM_DEVICE_ONLY, "false",
                LibfabricOptions.VERIFY_REMOTE_KEYS, "AUTO"));
        assertEquals("tcp;ofi_rxm", s.provider());
        assertEquals("127.0.0.1", s.node());
        assertTrue(s.forceEfaPaths());
        assertEquals(Boolean.FALSE, s.deliveryComplete());
        assertEquals(1, s.stagedReceives());
        assertEquals(3_600_000, s.retryTimeoutMillis());
        assertFalse(s.hmemDeviceOnly());
        assertNull(s.verifyRemoteKeys());
        assertNull(LibfabricSettings.from(Map.of(LibfabricOptions.NODE, "  ")).node(), "a blank node binds anywhere");
    }

    @Test
    void badValuesNameTheKeyAndWhatIsAllowed() {
        assertMessage(Map.of(LibfabricOptions.STAGED_RECEIVES, "0"), "libfabric.stagedReceives must be in 1..65536, got 0");
        assertMessage(Map.of(LibfabricOptions.STAGED_RECEIVE_BYTES, "x"),
                "libfabric.stagedReceiveBytes must be an integer in 1..1073741824, got 'x'");
        assertMessage(Map.of(LibfabricOptions.RETRY_TIMEOUT_MILLIS, "3600001"),
                "libfabric.retryTimeoutMillis must be in 1..3600000, got 3600001");
        assertMessage(Map.of(LibfabricOptions.FORCE_EFA_PATHS, "yes"),
                "libfabric.forceEfaPaths must be true or false, got 'yes'");
        assertMessage(Map.of(LibfabricOptions.DELIVERY_COMPLETE, "on"),
                "libfabric.deliveryComplete must be one of [auto, true, false], got 'on'");
        assertMessage(Map.of(LibfabricOptions.PROVIDER, " "), "libfabric.provider must name a libfabric provider");
    }

    @Test
    void aSystemPropertyStandsInForAMissingKey() {
        String key = "te." + LibfabricOptions.STAGED_RECEIVES;
        System.setProperty(key, "128");
        try {
            assertEquals(128, LibfabricSettings.from(Map.of()).stagedReceives());
            assertEquals(2, LibfabricSettings.from(Map.of(LibfabricOptions.STAGED_RECEIVES, "2")).stagedReceives());
        } finally {
            System.clearProperty(key);
        }
    }

    private static void assertMessage(Map<String, String> options, String message) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> LibfabricSettings.from(options));
        assertEquals(message, e.getMessage());
    }
}
