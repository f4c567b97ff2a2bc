package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackProviderTest {
    private final TransportProvider provider = new LoopbackProvider();

    @Test
    void isAlwaysAvailableUnderItsName() {
        assertEquals("loopback", provider.name());
        assertTrue(provider.availability().available());
        assertNull(provider.availability().reason());
    }

    @Test
    void listsTheWantedNumberOfNominalNics() {
        try (ProviderFabric fabric = provider.open(Map.of(), 3)) {
            assertEquals(List.of("lo0", "lo1", "lo2"), fabric.domains().stream().map(DomainInfo::name).toList());
            fabric.domains().forEach(info -> assertEquals(0, info.linkSpeedBitsPerSec(), "no link speed: unknown"));
        }
        try (ProviderFabric fabric = provider.open(Map.of(), 0)) {
            assertEquals(1, fabric.domains().size(), "at least one NIC");
        }
    }

    @Test
    void everyOpenDomainIsIndependentAndAddressedByItsId() {
        try (ProviderFabric fabric = provider.open(Map.of(), 1)) {
            DomainInfo nic = fabric.domains().get(0);
            ProviderDomain first = fabric.openDomain(nic);
            ProviderDomain second = fabric.openDomain(nic);
            assertNotEquals(first.address(), second.address());
            long id = ((LoopbackDomain) first).id();
            byte[] raw = first.address().bytes();
            assertEquals(9, raw.length);
            assertEquals('L', raw[0]);
            long decoded = 0;
            for (int i = 0; i < 8; i++) {
                decoded |= (raw[1 + i] & 0xFFL) << (8 * i);
            }
            assertEquals(id, decoded, "little-endian id after 'L'");
            assertSame(first, LoopbackRegistry.find(id));
            assertTrue(first.capabilities().remoteImm());
            assertFalse(first.capabilities().hostMemoryOnly(), "loopback registers device memory itself (loopback.deviceMemory)");
            first.close();
            assertNull(LoopbackRegistry.find(id), "a closed domain leaves the registry");
            second.close();
        }
    }

    @Test
    void addressesSurviveTheWireEncoding() {
        try (ProviderFabric fabric = provider.open(Map.of(), 1);
             ProviderDomain a = fabric.openDomain(fabric.domains().get(0));
             ProviderDomain b = fabric.openDomain(fabric.domains().get(0))) {
            DomainAddress decoded = DomainAddress.fromHex(b.address().toHex());
            assertEquals(a.resolvePeer(b.address()), a.resolvePeer(decoded));
        }
    }

    @Test
    void closingTheFabricClosesDomainsLeftOpen() {
        ProviderFabric fabric = provider.open(Map.of(), 1);
        ProviderDomain domain = fabric.openDomain(fabric.domains().get(0));
        fabric.close();
        fabric.close();
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(ClosedException.class, () -> domain.register(arena.allocate(8), true));
        }
        assertThrows(ClosedException.class, () -> fabric.openDomain(fabric.domains().get(0)));
    }

    @Test
    void foreignDomainInfoIsRejected() {
        try (ProviderFabric fabric = provider.open(Map.of(), 1)) {
            assertThrows(InvalidRequestException.class,
                    () -> fabric.openDomain(new DomainInfo("lo7", 1, "not from this fabric")));
        }
    }

    @Test
    void optionsAreParsedAndCheckedStrictly() {
        LoopbackSettings options = LoopbackSettings.parse(Map.of(LoopbackOptions.REORDER, "TRUE",
                LoopbackOptions.SEED, "-3", LoopbackOptions.DELAY_NANOS, "5", LoopbackOptions.FAIL_EVERY_NTH, "2",
                LoopbackOptions.QUEUE_DEPTH, "8", LoopbackOptions.UNKEYED_ZERO_LENGTH, "true", "libfabric.provider", "tcp"));
        assertEquals(new LoopbackSettings(true, -3, 5, 2, 8, LoopbackSettings.DEFAULT_MAX_MESSAGE_BYTES, true, true, 4,
                false, true),
                options);
        assertEquals(new LoopbackSettings(false, LoopbackSettings.DEFAULT_SEED, 0, 0, 1024, 1L << 30, true, false, 4,
                        false, true),
                LoopbackSettings.defaults());
        assertEquals(16, LoopbackSettings.parse(Map.of(LoopbackOptions.COPY_STREAMS, "16")).copyStreams());
        assertEquals(false, LoopbackSettings.parse(Map.of(LoopbackOptions.COALESCE_COPIES, "false")).coalesceCopies());

        for (Map<String, String> bad : List.of(Map.of("loopback.reoder", "true"),
                Map.of(LoopbackOptions.REORDER, "yes"),
                Map.of(LoopbackOptions.QUEUE_DEPTH, "0"),
                Map.of(LoopbackOptions.QUEUE_DEPTH, "-9223372036854775808"),
                Map.of(LoopbackOptions.QUEUE_DEPTH, "99999999999"),
                Map.of(LoopbackOptions.DELAY_NANOS, "-1"),
                Map.of(LoopbackOptions.FAIL_EVERY_NTH, "x"),
                Map.of(LoopbackOptions.COPY_STREAMS, "0"),
                Map.of(LoopbackOptions.COPY_STREAMS, "17"))) {
            assertThrows(InvalidRequestException.class, () -> provider.open(bad, 1), bad.toString());
        }
        assertThrows(InvalidRequestException.class, () -> provider.open(Map.of(), 100_000));
    }

    @Test
    void aMisspeltOptionIsRejectedWithTheKnownKeys() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> provider.open(Map.of("loopback.failEveryNht", "2", "threadingMode", "INVOKER"), 1));
        assertEquals("unknown loopback option 'loopback.failEveryNht'; known: [loopback.coalesceCopies, "
                + "loopback.copyStreams, loopback.delayNanos, loopback.deviceMemory, loopback.failEveryNth, loopback.maxMessageBytes, loopback.queueDepth, "
                + "loopback.reorder, loopback.seed, loopback.silentPeers, loopback.unkeyedZeroLength]", e.getMessage());
        e = assertThrows(InvalidRequestException.class,
                () -> provider.open(Map.of(LoopbackOptions.QUEUE_DEPTH, "99999999999"), 1));
        assertEquals(LoopbackOptions.QUEUE_DEPTH + " must be in 1.." + LoopbackSettings.MAX_QUEUE_DEPTH
                + ", got 99999999999", e.getMessage());
    }

    @Test
    void aSystemPropertyStandsInForAMissingKeyAndTheMapWins() {
        System.setProperty("te." + LoopbackOptions.DELAY_NANOS, "250");
        try {
            assertEquals(250, LoopbackSettings.parse(Map.of()).delayNanos());
            assertEquals(3, LoopbackSettings.parse(Map.of(LoopbackOptions.DELAY_NANOS, "3")).delayNanos());
            System.setProperty("te." + LoopbackOptions.DELAY_NANOS, "-1");
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> LoopbackSettings.parse(Map.of()));
            assertEquals(LoopbackOptions.DELAY_NANOS + " must be >= 0, got -1", e.getMessage());
        } finally {
            System.clearProperty("te." + LoopbackOptions.DELAY_NANOS);
        }
    }
}
