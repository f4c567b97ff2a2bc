package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.efa.DomainPair;
import dev.transferengine.efa.TestProviders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SmrRegion} against real libfabric 1.17 shm endpoints in this process: the header check, the lock word, the
 * peer table, and answering a write's response as its (never progressing) target would.
 */
class SmrRegionTest {
    private static final Map<String, String> SHM = Map.of("libfabric.provider", "shm");

    @BeforeAll
    static void shmOnLibfabric117() {
        TestProviders.assumeLibfabric();
    }

    private static Path fileOf(dev.transferengine.api.DomainAddress address) {
        return RetiredEndpoints.shmFileOf(address.bytes());
    }

    @Test
    void mapsOnlyA117RegionOfTheNamedProcessAndSeesItsLockAndPeers() {
        try (DomainPair d = new DomainPair(SHM)) {
            Path file = fileOf(d.a.address());
            assertNull(SmrRegion.open(file, PeerProcesses.OWN_PID + 1), "a region of another pid is refused");
            assertNull(SmrRegion.open(Path.of("/dev/shm/no-such-region"), PeerProcesses.OWN_PID));
            try (SmrRegion r = SmrRegion.open(file, PeerProcesses.OWN_PID)) {
                assertNotNull(r, "libfabric 1.17 region " + file);
                assertFalse(r.lockHeld());
                assertTrue(r.tryTakeLock());
                assertTrue(r.lockHeld());
                assertFalse(r.tryTakeLock(), "taken already");
                r.releaseLock();
                assertFalse(r.lockHeld());
                String peer = fileOf(d.b.address()).getFileName().toString();
                assertTrue(r.peerNames().contains(peer), r.peerNames() + " names B (" + peer + ")");
            }
            // the endpoint still works after its lock was taken and released behind libfabric's back
            d.write(0, 64, 0, true, 7, 1);
            d.pollUntil(() -> d.sinkA.completed.contains(1L) && d.sinkB.imms.contains(7), "a write after the release");
        }
    }

    @Test
    void anAnsweredResponseCompletesTheWriteWithPeerUnreachable() {
        try (DomainPair d = new DomainPair(SHM);
             SmrRegion r = SmrRegion.open(fileOf(d.a.address()), PeerProcesses.OWN_PID)) {
            assertNotNull(r);
            // 64 KiB: the CMA protocol, answered through A's response queue once B progresses, which it never does
            d.write(0, 65536, 0, true, 7, 42);
            for (int i = 0; i < 100; i++) {
                d.a.poll(d.sinkA, 16);
            }
            assertTrue(d.sinkA.completed.isEmpty() && d.sinkA.errors.isEmpty(), "B never progressed: no answer yet");
            assertEquals(0, r.failPendingResponses(context -> false, -FiConst.Err.FI_EHOSTUNREACH));
            assertEquals(1, r.failPendingResponses(context -> true, -FiConst.Err.FI_EHOSTUNREACH));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (d.sinkA.errors.isEmpty() && System.nanoTime() < deadline) {
                d.a.poll(d.sinkA, 16);
            }
            TransferException e = d.sinkA.errors.get(42L);
            assertNotNull(e, "the answered write failed at A: " + d.sinkA.errors);
            assertEquals(ErrorCategory.PEER_UNREACHABLE, e.category(), e::toString);
            assertTrue(d.sinkA.completed.isEmpty());
        }
    }
}
