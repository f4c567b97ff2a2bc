package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9, partitions: tcp;ofi_rxm between this JVM and a {@link TargetProcessMain} child in another network
 * namespace, joined by a veth pair ({@link VethNamespace}); both engines bind to the veth addresses
 * ({@code libfabric.node}). The link is cut (host end down) while writes are in flight: every write submitted after
 * the cut ends with a typed error (TIMEOUT, or PEER_UNREACHABLE once the provider gives the peer up) within twice
 * the transfer timeout; after the link is restored, the same engine's writes succeed again and land. Skipped
 * (with the reason) where not root or without {@code ip netns}.
 */
class PartitionTest {
    private static final int MIB = 1 << 20;
    private static final int REGION = 4 * MIB;
    private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(2);
    private static final int DURING_IMM = 12;
    private static final int AFTER_IMM = 13;
    private static final int WRITE = 65536;
    private static VethNamespace veth;

    @BeforeAll
    static void setUp() throws Exception {
        TestProviders.assumeLibfabric();
        String why = VethNamespace.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "partition tests skipped: " + why);
        try {
            veth = VethNamespace.create();
        } catch (java.io.IOException e) {
            // root without the capability to create namespaces or links (e.g. an unprivileged container)
            Assumptions.abort("partition tests skipped: cannot set up the namespace and veth pair: " + e.getMessage());
        }
    }

    @AfterAll
    static void tearDown() {
        if (veth != null) {
            veth.close();
        }
    }

    @Test
    void aCutLinkFailsWritesWithTypedErrorsAndTheyWorkAgainOnceItIsRestored() throws Exception {
        try (TransferEngine engine = TransferEngine.builder().provider("libfabric")
                .providerOption(LibfabricOptions.PROVIDER, "tcp;ofi_rxm")
                .providerOption(LibfabricOptions.NODE, veth.hostAddress)
                .groups(1, 1).name("partition").transferTimeout(TRANSFER_TIMEOUT).build();
             Arena arena = Arena.ofShared();
             TargetProcess child = new TargetProcess(veth.execPrefix(), List.of("-Dte.libfabric.provider=tcp;ofi_rxm",
                     "-Dte.libfabric.node=" + veth.peerAddress), "libfabric", 1, REGION, true, DURING_IMM, AFTER_IMM)) {
            MemoryRegion src = engine.register(arena.allocate(MIB, 4096).fill((byte) 0x47), Access.LOCAL);
            // the link works: the child, in its own namespace, is reached through the veth pair
            engine.submit(SingleWrite.withImm(src, 0, WRITE, child.region, 0, DURING_IMM)).get(60, TimeUnit.SECONDS);
            assertEquals(1, child.count(DURING_IMM, 1));

            List<CompletableFuture<Long>> before = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                before.add(timed(engine, SingleWrite.withImm(src, 0, WRITE, child.region, (i % 16) * (long) WRITE,
                        DURING_IMM)));
            }
            veth.cut();
            long cutAt = System.nanoTime();
            List<CompletableFuture<Long>> during = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                during.add(timed(engine, SingleWrite.withImm(src, 0, WRITE, child.region, (i % 16) * (long) WRITE,
                        DURING_IMM)));
            }
            int failedBefore = 0;
            for (CompletableFuture<Long> f : before) {
                failedBefore += outcome(f) < 0 ? 0 : 1;
            }
            long maxDuring = 0;
            for (CompletableFuture<Long> f : during) {
                long failedAfter = outcome(f);
                assertTrue(failedAfter >= 0, "a write submitted after the link was cut succeeded");
                maxDuring = Math.max(maxDuring, failedAfter);
            }
            long cutFor = System.nanoTime() - cutAt;

            veth.restore();
            long restoredAt = System.nanoTime();
            // the first write after the restore may still meet the provider's view of the dead link: retry until one
            // goes through (bounded), then every write must succeed
            long deadline = restoredAt + TimeUnit.SECONDS.toNanos(60);
            int attempts = 0;
            while (true) {
                attempts++;
                try {
                    engine.submit(SingleWrite.withImm(src, 0, WRITE, child.region, 2L * MIB, AFTER_IMM))
                            .get(60, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException e) {
                    TransferException t = assertInstanceOf(TransferException.class, e.getCause());
                    assertTrue(t.category() == ErrorCategory.TIMEOUT
                            || t.category() == ErrorCategory.PEER_UNREACHABLE, t::toString);
                    if (System.nanoTime() > deadline) {
                        fail("no write succeeded within 60 s of restoring the link; last: " + t);
                    }
                }
            }
            long firstSuccess = System.nanoTime() - restoredAt;
            List<CompletableFuture<Void>> after = new ArrayList<>();
            for (int i = 1; i < 16; i++) {
                after.add(engine.submit(SingleWrite.withImm(src, 0, WRITE, child.region, 2L * MIB + i * (long) WRITE,
                        AFTER_IMM)));
            }
            for (CompletableFuture<Void> f : after) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(16, child.count(AFTER_IMM, 16), "imms of the writes after the restore");
            byte[] expected = new byte[MIB];
            Arrays.fill(expected, (byte) 0x47);
            assertEquals(TargetProcessMain.crc(expected), child.checksum(2L * MIB, MIB),
                    "bytes written after the restore");
            System.out.printf("partition[tcp veth] cut with 200 x 64 KiB in flight (%d failed), 50 submitted during the"
                            + " cut all failed, slowest after %d ms (timeout %d ms); link down %d ms; first success %d"
                            + " ms after the restore (%d attempts)%n", failedBefore, maxDuring / 1_000_000,
                    TRANSFER_TIMEOUT.toMillis(), cutFor / 1_000_000, firstSuccess / 1_000_000, attempts);
        }
    }

    /** Submits; the future gives the nanoseconds from submission to the end, failing only for untyped errors. */
    private static CompletableFuture<Long> timed(TransferEngine engine, SingleWrite write) {
        long start = System.nanoTime();
        CompletableFuture<Long> result = new CompletableFuture<>();
        engine.submit(write).whenComplete((v, e) -> {
            long took = System.nanoTime() - start;
            if (e == null) {
                result.complete(took);
            } else if (e instanceof TransferException t && (t.category() == ErrorCategory.TIMEOUT
                    || t.category() == ErrorCategory.PEER_UNREACHABLE)) {
                result.completeExceptionally(new Typed(t, took));
            } else {
                result.completeExceptionally(new AssertionError("untyped or unexpected failure: " + e, e));
            }
        });
        return result;
    }

    /**
     * -1 when the write succeeded; the nanoseconds it took to fail for a typed failure within twice the timeout;
     * throws otherwise.
     */
    private static long outcome(CompletableFuture<Long> f) throws Exception {
        try {
            f.get(4 * TRANSFER_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
            return -1;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Typed t) {
                assertTrue(t.tookNanos <= 2 * TRANSFER_TIMEOUT.toNanos(), "a write during the cut took "
                        + t.tookNanos / 1_000_000 + " ms to fail: " + t.getCause());
                return t.tookNanos;
            }
            throw e;
        }
    }

    /** A typed failure and how long it took. */
    private static final class Typed extends Exception {
        private static final long serialVersionUID = 1L;
        final long tookNanos;

        Typed(TransferException cause, long tookNanos) {
            super(cause.toString(), cause);
            this.tookNanos = tookNanos;
        }
    }
}
