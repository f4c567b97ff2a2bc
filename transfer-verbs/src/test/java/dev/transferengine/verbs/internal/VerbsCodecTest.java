package dev.transferengine.verbs.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.verbs.internal.DeviceContext.GidEntry;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side unit tests of the provider's pure-Java parts: address and handshake codecs, GID ranking, options. */
class VerbsCodecTest {
    private static final byte[] MAPPED = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 2, 15};
    private static final byte[] LINK_LOCAL = {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, (byte) 0xff,
            (byte) 0xfe, 0x12, 0x34, 0x56};

    @Test
    void addressRoundTripsThroughDomainAddress() {
        VerbsAddress a = new VerbsAddress(true, 0, 0x123456, 0x7abc_def0, MAPPED);
        DomainAddress d = a.toDomainAddress();
        assertEquals(VerbsAddress.LENGTH, d.length());
        VerbsAddress back = VerbsAddress.parse(d);
        assertEquals(0x123456, back.udQpn());
        assertEquals(0x7abc_def0, back.qkey());
        assertTrue(back.global());
        assertArrayEquals(MAPPED, back.gid());
        assertEquals("verbs[::ffff:10.0.2.15 qpn 1193046]", back.toString());
    }

    @Test
    void foreignAddressesAreInvalidRequests() {
        assertThrows(InvalidRequestException.class, () -> VerbsAddress.parse(DomainAddress.of(new byte[] {1, 2, 3})));
        byte[] wrongFormat = new VerbsAddress(true, 0, 1, 1, MAPPED).toDomainAddress().bytes();
        wrongFormat[0] = 9;
        assertThrows(InvalidRequestException.class, () -> VerbsAddress.parse(DomainAddress.of(wrongFormat)));
        assertThrows(InvalidRequestException.class, () -> VerbsAddress.parse((DomainAddress) null));
    }

    @Test
    void handshakeMessageRoundTrips() {
        VerbsAddress sender = new VerbsAddress(true, 0, 77, 99, MAPPED);
        HandshakeMessage m = new HandshakeMessage(sender, 3, 2, true, Ibv.IBV_MTU_4096, 1000, 0xabcdef,
                new int[] {1001, 1002}, new int[] {5, 6});
        HandshakeMessage back = HandshakeMessage.decode(m.encode());
        assertEquals(3, back.epoch());
        assertEquals(2, back.connectedTo());
        assertTrue(back.ready());
        assertEquals(Ibv.IBV_MTU_4096, back.pathMtu());
        assertEquals(1000, back.messageQpn());
        assertEquals(0xabcdef, back.messagePsn());
        assertArrayEquals(new int[] {1001, 1002}, back.rmaQpns());
        assertArrayEquals(new int[] {5, 6}, back.rmaPsns());
        assertEquals(77, back.sender().udQpn());
    }

    @Test
    void garbageAndTruncatedDatagramsAreIgnored() {
        HandshakeMessage m = new HandshakeMessage(new VerbsAddress(true, 0, 77, 99, MAPPED), 1, 0, false, 3, 10, 11,
                new int[] {12}, new int[] {13});
        byte[] good = m.encode();
        for (int len = 0; len < good.length; len++) {
            assertNull(HandshakeMessage.decode(Arrays.copyOf(good, len)), "truncated to " + len);
        }
        byte[] badMagic = good.clone();
        badMagic[0] ^= 1;
        assertNull(HandshakeMessage.decode(badMagic));
        byte[] tooManyQps = good.clone();
        tooManyQps[7] = 17;
        assertNull(HandshakeMessage.decode(tooManyQps));
        byte[] zeroEpoch = good.clone();
        Arrays.fill(zeroEpoch, 36, 40, (byte) 0);
        assertNull(HandshakeMessage.decode(zeroEpoch));
        Random r = new Random(5);
        for (int i = 0; i < 1000; i++) {
            byte[] noise = new byte[r.nextInt(200)];
            r.nextBytes(noise);
            assertNull(HandshakeMessage.decode(noise), "random bytes decoded");
        }
    }

    @Test
    void roceV2WithAnIpv4MappedAddressRanksFirst() {
        GidEntry v2Mapped = new GidEntry(1, MAPPED, Ibv.IBV_GID_TYPE_ROCE_V2);
        GidEntry v2LinkLocal = new GidEntry(0, LINK_LOCAL, Ibv.IBV_GID_TYPE_ROCE_V2);
        GidEntry v1Mapped = new GidEntry(2, MAPPED, Ibv.IBV_GID_TYPE_ROCE_V1);
        assertTrue(GidSelector.rank(v2Mapped) < GidSelector.rank(v2LinkLocal));
        assertTrue(GidSelector.rank(v2LinkLocal) < GidSelector.rank(v1Mapped));
    }

    @Test
    void linkRateParsesFromSysfsText() {
        assertEquals(400_000_000_000L, PortDiscovery.parseRate("400 Gb/sec (4X NDR)"));
        assertEquals(2_500_000_000L, PortDiscovery.parseRate("2.5 Gb/sec (1X SDR)\n"));
        assertEquals(0, PortDiscovery.parseRate("unknown"));
    }

    @Test
    void optionsAreValidatedWithTheirNames() {
        VerbsSettings d = VerbsSettings.from(Map.of());
        assertEquals(-1, d.gidIndex());
        assertEquals(1, d.rmaQpsPerPeer());
        assertEquals(3, VerbsSettings.from(Map.of("verbs.gidIndex", "3")).gidIndex());
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> VerbsSettings.from(Map.of("verbs.sendQueueDepth", "100")));
        assertTrue(e.getMessage().contains("verbs.sendQueueDepth"), e.getMessage());
        assertThrows(InvalidRequestException.class, () -> VerbsSettings.from(Map.of("verbs.rmaQpsPerPeer", "17")));
        assertThrows(InvalidRequestException.class, () -> VerbsSettings.from(Map.of("verbs.port", "x")));
        assertThrows(InvalidRequestException.class, () -> VerbsSettings.from(Map.of("verbs.relaxedOrdering", "yes")));
        assertThrows(InvalidRequestException.class,
                () -> VerbsSettings.from(Map.of("verbs.sendQueueDepth", "16", "verbs.signalInterval", "16")));
    }

    @Test
    void aMisspeltOptionIsRejectedWithTheKnownKeys() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> VerbsSettings.from(Map.of("verbs.gidindex", "3", "libfabric.provider", "tcp")));
        assertEquals("unknown verbs option 'verbs.gidindex'; known: [verbs.ackTimeout, verbs.completionQueueDepth, "
                + "verbs.device, verbs.gidIndex, verbs.handshakeRetryMillis, verbs.handshakeTimeoutMillis, "
                + "verbs.immReceiveDepth, verbs.messageReceiveDepth, verbs.peerTimeoutMillis, verbs.port, "
                + "verbs.relaxedOrdering, verbs.retryCount, verbs.rmaQpsPerPeer, verbs.sendQueueDepth, "
                + "verbs.signalInterval]", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> VerbsSettings.from(Map.of("verbs.rmaQpsPerPeer", "17")));
        assertEquals("verbs.rmaQpsPerPeer must be in 1..16, got 17", e.getMessage());
        assertEquals("mlx5_0", VerbsSettings.from(Map.of("verbs.device", " mlx5_0 ")).device());
        assertEquals(null, VerbsSettings.from(Map.of("verbs.device", " ")).device(), "blank: every device");
        assertEquals(10_000, VerbsSettings.from(Map.of("threadingMode", "INVOKER")).peerTimeoutMillis(),
                "engine-level keys are not the provider's to judge");
    }
}
