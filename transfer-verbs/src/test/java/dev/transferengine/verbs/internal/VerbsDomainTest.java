package dev.transferengine.verbs.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.verbs.DomainPair;
import dev.transferengine.verbs.SoftRoce;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider through the SPI, two domains in this process on a real verbs device (Soft-RoCE in the guest):
 * connection from addresses alone, WRITE / WRITE_WITH_IMM / zero-length imm / SEND, chained and selectively
 * signalled writes, and the error paths.
 */
@Tag(SoftRoce.TAG)
class VerbsDomainTest {

    private static void fill(MemorySegment s, long seed) {
        byte[] bytes = new byte[(int) s.byteSize()];
        new Random(seed).nextBytes(bytes);
        MemorySegment.copy(bytes, 0, s, JAVA_BYTE, 0, bytes.length);
    }

    @Test
    void writesWithImmLandAndCompleteOnBothSides() {
        try (DomainPair p = new DomainPair()) {
            MemorySegment src = p.buffer(1 << 20);
            MemorySegment dst = p.buffer(1 << 20);
            fill(src, 1);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            assertEquals(peer, p.a.resolvePeer(p.b.address()), "resolving twice gives the same handle");

            // one 64 KiB write with an immediate
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 65536, dstMr.remoteBase() + 4096,
                    dstMr.remoteKey(), true, 0x1234_5678, 1), "first write");
            p.pollUntil(() -> p.sinkA.finished(1) && p.sinkB.immCount(0x1234_5678) == 1, "write 1 and its imm");
            assertEquals(-1, src.asSlice(0, 65536).mismatch(dst.asSlice(4096, 65536)), "bytes of write 1");

            // a zero-length write still carries its immediate (big-endian on the wire, value preserved)
            p.post(() -> p.a.postWrite(peer, null, 0, 0, dstMr.remoteBase(), dstMr.remoteKey(), true, -2, 2),
                    "zero-length imm write");
            p.pollUntil(() -> p.sinkA.finished(2) && p.sinkB.immCount(-2) == 1, "zero-length imm");

            // 256 pages of 4 KiB: chained, selectively signalled; every context completes exactly once
            int pages = 256;
            for (int i = 0; i < pages; i++) {
                long off = 4096L * i;
                long ctx = 100 + i;
                p.post(() -> p.a.postWrite(peer, srcMr, src.address() + off, 4096, dstMr.remoteBase() + off,
                        dstMr.remoteKey(), true, 77, ctx), "page " + i);
            }
            p.pollUntil(() -> p.sinkB.immCount(77) == pages && p.sinkA.completed.size() == pages + 2, "256 pages");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
            assertEquals(-1, src.asSlice(0, 4096L * pages).mismatch(dst.asSlice(0, 4096L * pages)), "paged bytes");
        }
    }

    @Test
    void sendLandsInAPostedReceive() {
        try (DomainPair p = new DomainPair()) {
            MemorySegment src = p.buffer(8192);
            MemorySegment dst = p.buffer(8192);
            fill(src, 2);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, false);
            assertEquals(ProviderDomain.POSTED, p.b.postReceive(dstMr, dst.address(), 8192, 42));
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.a.postSend(peer, srcMr, src.address() + 10, 3000, 7), "send");
            p.pollUntil(() -> p.sinkA.finished(7) && p.sinkB.finished(42), "send and receive");
            assertEquals(3000L, p.sinkB.received.get(42L));
            assertEquals(-1, src.asSlice(10, 3000).mismatch(dst.asSlice(0, 3000)), "message bytes");
        }
    }

    @Test
    void wrongRemoteKeyIsRemoteAccessAndTheConnectionRecovers() {
        try (DomainPair p = new DomainPair()) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            fill(src, 3);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            long badKey = (dstMr.remoteKey() + 0x100) & 0xffff_ffffL;
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 4096, dstMr.remoteBase(), badKey, true, 5, 1),
                    "write with a wrong rkey");
            p.pollUntil(() -> p.sinkA.finished(1), "the failing write");
            TransferException e = p.sinkA.errors.get(1L);
            assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);
            assertTrue(e.getMessage().contains("remote access error"), e.getMessage()); // ibv_wc_status_str
            assertEquals(0, p.sinkB.immCount(5), "no imm for a rejected write");

            // the broken RC connection is replaced; the next write gets through
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 4096, dstMr.remoteBase(), dstMr.remoteKey(),
                    true, 6, 2), "write after the failure");
            p.pollUntil(() -> p.sinkA.finished(2) && p.sinkB.immCount(6) == 1, "write after reconnect");
            assertTrue(p.sinkA.completed.contains(2L), () -> "second write: " + p.sinkA.errors.get(2L));
            assertEquals(-1, src.mismatch(dst), "bytes after reconnect");
        }
    }

    @Test
    void aDomainWritesToItself() {
        try (DomainPair p = new DomainPair()) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            fill(src, 4);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.a.register(dst, true);
            long self = p.a.resolvePeer(p.a.address());
            p.post(() -> p.a.postWrite(self, srcMr, src.address(), 4096, dstMr.remoteBase(), dstMr.remoteKey(),
                    true, 9, 1), "write to self");
            p.pollUntil(() -> p.sinkA.finished(1) && p.sinkA.immCount(9) == 1, "self write");
            assertEquals(-1, src.mismatch(dst));
        }
    }

    @Test
    void handshakeToASilentAddressFailsWithPeerUnreachable() {
        try (DomainPair p = new DomainPair(Map.of("verbs.handshakeTimeoutMillis", "1500",
                "verbs.handshakeRetryMillis", "100"))) {
            VerbsAddress real = VerbsAddress.parse(p.b.address());
            // same GID, a queue pair number nobody listens on
            DomainAddress silent = new VerbsAddress(real.global(), real.lid(), real.udQpn() + 100_000, real.qkey(),
                    real.gid()).toDomainAddress();
            MemorySegment src = p.buffer(64);
            RegisteredMemory srcMr = p.a.register(src, false);
            long peer = p.a.resolvePeer(silent);
            assertEquals(ProviderDomain.RETRY_PEER, p.a.postWrite(peer, srcMr, src.address(), 64, 0, 1, false, 0, 1),
                    "posts to this peer wait while the handshake runs");
            TransferException[] thrown = new TransferException[1];
            p.pollUntil(() -> {
                try {
                    p.a.postWrite(peer, srcMr, src.address(), 64, 0, 1, false, 0, 1);
                    return false;
                } catch (TransferException e) {
                    thrown[0] = e;
                    return true;
                }
            }, "the handshake deadline");
            assertEquals(ErrorCategory.PEER_UNREACHABLE, thrown[0].category());
            assertTrue(thrown[0].getMessage().contains("did not complete the connection handshake within 1500 ms"),
                    thrown[0].getMessage());
            assertTrue(p.sinkA.completed.isEmpty() && p.sinkA.errors.isEmpty(), "nothing was posted");
            // once the failure is a handshake timeout old, the next post starts a new attempt (RETRY_PEER again)
            p.pollUntil(() -> {
                try {
                    return p.a.postWrite(peer, srcMr, src.address(), 64, 0, 1, false, 0, 1)
                            == ProviderDomain.RETRY_PEER;
                } catch (TransferException stillFailed) {
                    return false;
                }
            }, "a new handshake attempt");
        }
    }

    @Test
    void badInputIsRejectedBeforeNativeCode() {
        try (DomainPair p = new DomainPair()) {
            MemorySegment src = p.buffer(4096);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory otherDomains = p.b.register(src, false);
            long peer = p.a.resolvePeer(p.b.address());
            assertThrows(InvalidRequestException.class, () -> p.a.postWrite(peer + 10, srcMr, src.address(), 8, 0, 1,
                    false, 0, 1), "unknown peer handle");
            assertThrows(InvalidRequestException.class, () -> p.a.postWrite(peer, srcMr, src.address() + 4090, 8, 0,
                    1, false, 0, 1), "source past the registration");
            assertThrows(InvalidRequestException.class, () -> p.a.postWrite(peer, otherDomains, src.address(), 8, 0,
                    1, false, 0, 1), "memory of another domain");
            assertThrows(InvalidRequestException.class, () -> p.a.postWrite(peer, srcMr, src.address(), -1, 0, 1,
                    false, 0, 1), "negative length");
            TransferException wide = assertThrows(TransferException.class, () -> p.a.postWrite(peer, srcMr,
                    src.address(), 8, 0, 1L << 32, false, 0, 1), "rkey wider than 32 bits");
            assertEquals(ErrorCategory.REMOTE_ACCESS, wide.category(), "no registration has such a key");
            assertThrows(InvalidRequestException.class, () -> p.a.resolvePeer(DomainAddress.of(new byte[] {1, 2, 3})),
                    "not a verbs address");
            assertThrows(InvalidRequestException.class, () -> p.a.register(MemorySegment.ofArray(new byte[64]), true),
                    "heap memory");
            p.a.deregister(srcMr);
            p.a.deregister(srcMr); // idempotent
            assertThrows(InvalidRequestException.class, () -> p.a.postWrite(peer, srcMr, src.address(), 8, 0, 1,
                    false, 0, 1), "deregistered memory");
        }
    }

    @Test
    void writesToADomainThatClosedFailWithPeerUnreachable() {
        try (DomainPair p = new DomainPair(Map.of("verbs.peerTimeoutMillis", "3000"))) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 4096, dstMr.remoteBase(), dstMr.remoteKey(),
                    false, 0, 1), "write while connected");
            p.pollUntil(() -> p.sinkA.finished(1), "the first write");
            p.b.close(); // its queue pairs are gone: nothing acknowledges A's packets any more
            long start = System.nanoTime();
            for (int i = 0; i < 4; i++) {
                long ctx = 10 + i;
                assertEquals(ProviderDomain.POSTED, p.a.postWrite(peer, srcMr, src.address(), 4096,
                        dstMr.remoteBase(), dstMr.remoteKey(), false, 0, ctx));
            }
            long deadline = start + DomainPair.DEADLINE.toNanos();
            while (p.sinkA.errors.size() < 4 && System.nanoTime() - deadline < 0) {
                p.a.poll(p.sinkA, 64);
            }
            System.out.printf("writes to a closed domain failed after %d ms: %s%n",
                    (System.nanoTime() - start) / 1_000_000, p.sinkA.errors.values());
            assertEquals(4, p.sinkA.errors.size(), "all four writes failed");
            for (TransferException e : p.sinkA.errors.values()) {
                assertEquals(ErrorCategory.PEER_UNREACHABLE, e.category(), e::toString);
            }
        }
    }

    @Test
    void writesSpreadOverSeveralQueuePairsPerPeer() {
        try (DomainPair p = new DomainPair(Map.of("verbs.rmaQpsPerPeer", "3", "verbs.signalInterval", "4"))) {
            MemorySegment src = p.buffer(64 * 1024);
            MemorySegment dst = p.buffer(64 * 1024);
            fill(src, 6);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            for (int i = 0; i < 64; i++) {
                long off = 1024L * i;
                long ctx = i;
                p.post(() -> p.a.postWrite(peer, srcMr, src.address() + off, 1024, dstMr.remoteBase() + off,
                        dstMr.remoteKey(), true, 3, ctx), "write " + i);
            }
            p.pollUntil(() -> p.sinkA.completed.size() == 64 && p.sinkB.immCount(3) == 64, "64 writes over 3 QPs");
            assertEquals(-1, src.mismatch(dst), "bytes");
        }
    }
}
