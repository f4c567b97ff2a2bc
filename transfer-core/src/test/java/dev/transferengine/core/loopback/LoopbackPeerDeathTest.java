package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9, peer death on loopback: the only death loopback can model is a peer whose domains close while writes to
 * it are still queued at the writer ({@code loopback.delayNanos} keeps them queued, reorder mixes them): the writer's
 * poll then finds the target gone and fails each with PEER_UNREACHABLE, writing nothing. Engine A writes to B (which
 * "dies": its engine closes) and to C; every write to B ends, none later than twice the transfer timeout, the ones
 * that failed are typed (PEER_UNREACHABLE; REMOTE_ACCESS for those applied while B's close had deregistered its
 * regions but not yet closed its domains) and left no imm; writes to C keep landing during and after; a restarted
 * B (a new engine, so a new address) is reachable from the same A.
 *
 * <p>A peer that goes silent instead (killed process, cut link), whose writes neither complete nor fail until the
 * engine's deadline, is {@code loopback.silentPeers}: {@link LoopbackSilentPeerTest}.
 */
class LoopbackPeerDeathTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final int WRITES = 2000;
    private static final int BYTES = 4096;

    /**
     * Each operation lands 50 ms after its post and at most 64 are outstanding per NIC, so 2,000 writes take about
     * 1.6 s to drain: when the first one has landed most are still queued at the writer, however fast or loaded the
     * machine (with a 2 ms delay and no bound, a slow test thread sometimes saw every write land first).
     */
    private static TransferEngine engine(String name, boolean reorder) {
        return TransferEngine.builder().provider("loopback").name(name).groups(1, 1).transferTimeout(TIMEOUT)
                .providerOption(LoopbackOptions.DELAY_NANOS, Long.toString(TimeUnit.MILLISECONDS.toNanos(50)))
                .providerOption(LoopbackOptions.QUEUE_DEPTH, "64")
                .providerOption(LoopbackOptions.REORDER, Boolean.toString(reorder)).build();
    }

    /** A typed failure and how long after its submission it came. */
    private static final class Failed extends Exception {
        private static final long serialVersionUID = 1L;
        final TransferException error;
        final long tookNanos;

        Failed(TransferException error, long tookNanos) {
            super(error.toString(), error);
            this.error = error;
            this.tookNanos = tookNanos;
        }
    }

    /** Submits; the future gives the nanoseconds to success, or fails with {@link Failed} (typed errors only). */
    private static CompletableFuture<Long> timed(TransferEngine engine, SingleWrite write) {
        long start = System.nanoTime();
        CompletableFuture<Long> result = new CompletableFuture<>();
        engine.submit(write).whenComplete((v, e) -> {
            long took = System.nanoTime() - start;
            if (e == null) {
                result.complete(took);
            } else if (e instanceof TransferException t) {
                result.completeExceptionally(new Failed(t, took));
            } else {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void writesQueuedForAPeerThatDiesFailTypedWhileOthersLandAndItsSuccessorIsReachable(boolean reorder)
            throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine a = engine("pd-a", reorder);
             TransferEngine c = engine("pd-c", reorder)) {
            MemoryRegion src = a.register(arena.allocate(BYTES * 16L, 64).fill((byte) 0x2E), Access.LOCAL);
            MemorySegment cMemory = arena.allocate(BYTES * 16L, 64);
            RemoteRegion toC = c.register(cMemory, Access.REMOTE_WRITE).descriptor();
            ImmCounter cImms = c.immCounter(2);
            List<CompletableFuture<Long>> toB = new ArrayList<>();
            List<CompletableFuture<Void>> toCDuring = new ArrayList<>();
            ImmCounter bImms;
            RemoteRegion toB0;
            try (TransferEngine b = engine("pd-b", reorder)) {
                toB0 = b.register(arena.allocate(BYTES * 16L, 64), Access.REMOTE_WRITE).descriptor();
                bImms = b.immCounter(1);
                for (int i = 0; i < WRITES; i++) {
                    toB.add(timed(a, SingleWrite.withImm(src, 0, BYTES, toB0, (i % 16) * (long) BYTES, 1)));
                    if (i % 100 == 0) {
                        toCDuring.add(a.submit(SingleWrite.withImm(src, 0, BYTES, toC, (i % 16) * (long) BYTES, 2)));
                    }
                }
                // close as soon as one write landed (under reorder the first submitted may be among the last applied)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (toB.stream().noneMatch(f -> f.isDone() && !f.isCompletedExceptionally())) {
                    assertTrue(System.nanoTime() < deadline, "no write to B completed within 60 s");
                    Thread.sleep(1);
                }
            } // B dies with writes to it still queued at A
            // writes submitted after the death fail too
            for (int i = 0; i < 10; i++) {
                toB.add(timed(a, SingleWrite.withImm(src, 0, BYTES, toB0, 0, 1)));
            }
            int failed = 0;
            int succeeded = 0;
            long slowestFailure = 0;
            int unreachable = 0;
            for (int i = 0; i < toB.size(); i++) {
                try {
                    long took = toB.get(i).get(2 * TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
                    assertTrue(i < WRITES, "a write submitted after the peer died succeeded");
                    assertTrue(took <= 2 * TIMEOUT.toNanos(), "write " + i + " took " + took / 1_000_000 + " ms");
                    succeeded++;
                } catch (ExecutionException e) {
                    Failed f = assertInstanceOf(Failed.class, e.getCause());
                    // B's close deregisters its regions before it closes its domains: a write applied in between finds
                    // the key gone (REMOTE_ACCESS, which is what the target's state was); after it, PEER_UNREACHABLE
                    assertTrue(f.error.category() == ErrorCategory.PEER_UNREACHABLE
                            || f.error.category() == ErrorCategory.REMOTE_ACCESS
                            || f.error.category() == ErrorCategory.TIMEOUT, f.error::toString);
                    unreachable += f.error.category() == ErrorCategory.PEER_UNREACHABLE ? 1 : 0;
                    assertTrue(f.tookNanos <= 2 * TIMEOUT.toNanos(), "write " + i + " to the dead peer failed only"
                            + " after " + f.tookNanos / 1_000_000 + " ms");
                    slowestFailure = Math.max(slowestFailure, f.tookNanos);
                    failed++;
                }
            }
            assertTrue(failed > 10, "every write reached the peer before it closed: the test proves nothing");
            assertTrue(unreachable >= 10, "the writes submitted after the close must find the peer gone: "
                    + unreachable);
            System.out.printf("peer-death[loopback reorder=%b] %d of %d writes to the closed peer failed (%d"
                            + " PEER_UNREACHABLE), %d landed; slowest failure %d ms after its submission%n", reorder,
                    failed, toB.size(), unreachable, succeeded, slowestFailure / 1_000_000);
            // an imm is queued only by a write that was applied; B may have closed before delivering some of them (one
            // NIC: with two, a write whose shards split around the close delivers one of its two imms and fails)
            assertTrue(bImms.arrived() <= succeeded, "the dead peer counted " + bImms.arrived() + " imms for "
                    + succeeded + " writes that succeeded");
            for (CompletableFuture<Void> f : toCDuring) {
                f.get(60, TimeUnit.SECONDS);
            }
            List<CompletableFuture<Void>> toCAfter = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                toCAfter.add(a.submit(SingleWrite.withImm(src, 0, BYTES, toC, i * (long) BYTES, 2)));
            }
            for (CompletableFuture<Void> f : toCAfter) {
                f.get(60, TimeUnit.SECONDS);
            }
            cImms.await(toCDuring.size() + 16L, Duration.ofSeconds(60));
            for (long i = 0; i < BYTES * 16L; i++) {
                assertEquals((byte) 0x2E, cMemory.get(ValueLayout.JAVA_BYTE, i), "C's byte " + i);
            }

            // a restarted peer: a new engine with a new address, reached by the same A
            try (TransferEngine reborn = engine("pd-b2", reorder)) {
                MemorySegment memory = arena.allocate(BYTES, 64);
                RemoteRegion toReborn = reborn.register(memory, Access.REMOTE_WRITE).descriptor();
                ImmCounter rebornImms = reborn.immCounter(3);
                a.submit(SingleWrite.withImm(src, 0, BYTES, toReborn, 0, 3)).get(60, TimeUnit.SECONDS);
                rebornImms.await(1, Duration.ofSeconds(60));
                assertEquals((byte) 0x2E, memory.get(ValueLayout.JAVA_BYTE, BYTES - 1));
            }
        }
    }
}
