package dev.transferengine.core.loopback;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.LoopbackOptions;
import org.junit.jupiter.api.Test;

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
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9, a peer that goes silent (loopback.silentPeers: operations to a closed peer neither complete nor fail, as
 * writes to a killed shm process or across a cut link behave): only the engine's deadline ends them. Every write to
 * the silent peer fails with TIMEOUT within twice the transfer timeout; none succeeds; and the writer does not run
 * out of anything: after more silent split writes than the splitter's table holds (256 per NIC), plain and split
 * writes to a live peer land, and close returns. Before the splitter gave up expired split writes, their pieces
 * held the table for good and every later split write on that NIC, to any peer, timed out ("0 of 1 writes
 * posted").
 *
 * <p>Not claimed: that a live peer's writes are unaffected <i>while</i> a silent peer fills the table. A full
 * table answers RETRY, which stops every post to that NIC for the pass (PostQueue), so writes to live peers on the
 * same NIC wait until the silent ones are given up, one transfer timeout after they started (docs/reliability.md).
 * Writes below the provider's limit do not use the table; {@link #smallWritesToALivePeerFlowWhileAPeerIsSilent}.
 */
class LoopbackSilentPeerTest {
    private static final Duration TIMEOUT = Duration.ofMillis(800);
    /** More than the splitter's 256 split writes in flight per NIC. */
    private static final int SILENT_WRITES = 300;
    private static final int BYTES = 64 * 1024;

    private static TransferEngine writer() {
        return TransferEngine.builder().provider("loopback").name("silent-writer").groups(1, 1)
                .transferTimeout(TIMEOUT)
                .providerOption(LoopbackOptions.SILENT_PEERS, "true")
                .providerOption(LoopbackOptions.MAX_MESSAGE_BYTES, "16384") // 64 KiB writes go in 4 pieces
                .build();
    }

    private static TransferEngine target(String name) {
        return TransferEngine.builder().provider("loopback").name(name).groups(1, 1).build();
    }

    @Test
    void writesToASilentPeerTimeOutAndLeaveTheWriterWhole() throws Exception {
        try (Arena arena = Arena.ofShared(); TransferEngine a = writer(); TransferEngine c = target("silent-c")) {
            MemoryRegion src = a.register(arena.allocate(BYTES, 64).fill((byte) 0x5C), Access.LOCAL);
            MemorySegment cMemory = arena.allocate(BYTES * 4L, 64);
            RemoteRegion toC = c.register(cMemory, Access.REMOTE_WRITE).descriptor();
            ImmCounter cImms = c.immCounter(7);
            RemoteRegion toB;
            try (TransferEngine b = target("silent-b")) {
                toB = b.register(arena.allocate(BYTES, 64), Access.REMOTE_WRITE).descriptor();
                a.submit(SingleWrite.withImm(src, 0, BYTES, toB, 0, 1)).get(30, TimeUnit.SECONDS); // B is alive
            } // B is gone; A is never told

            List<CompletableFuture<Void>> silent = new ArrayList<>();
            List<Long> submitted = new ArrayList<>();
            for (int i = 0; i < SILENT_WRITES; i++) {
                submitted.add(System.nanoTime());
                silent.add(a.submit(SingleWrite.withImm(src, 0, BYTES, toB, 0, 1)));
            }
            for (int i = 0; i < silent.size(); i++) {
                try {
                    silent.get(i).get(2 * TIMEOUT.toMillis() + 30_000, TimeUnit.MILLISECONDS);
                    fail("write " + i + " to the silent peer succeeded");
                } catch (ExecutionException e) {
                    TransferException t = assertInstanceOf(TransferException.class, e.getCause());
                    assertEquals(ErrorCategory.TIMEOUT, t.category(), t::toString);
                }
                long took = System.nanoTime() - submitted.get(i);
                assertTrue(took <= 2 * TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(1),
                        "write " + i + " ended " + took / 1_000_000 + " ms after its submission");
            }

            // nothing leaked: more plain and split writes than any table holds still land on the live peer
            List<CompletableFuture<Void>> after = new ArrayList<>();
            for (int i = 0; i < 2 * SILENT_WRITES; i++) {
                after.add(a.submit(SingleWrite.withImm(src, 0, i % 2 == 0 ? BYTES : 1000, toC,
                        (i % 4) * (long) BYTES, 7)));
            }
            for (CompletableFuture<Void> f : after) {
                f.get(30, TimeUnit.SECONDS);
            }
            cImms.await(after.size(), Duration.ofSeconds(30));
            for (int slot = 0; slot < 4; slot++) { // slots 0 and 2 get 64 KiB writes, 1 and 3 get 1000 B ones
                long written = slot % 2 == 0 ? BYTES : 1000;
                for (long i = 0; i < written; i++) {
                    long at = slot * (long) BYTES + i;
                    assertEquals((byte) 0x5C, cMemory.get(ValueLayout.JAVA_BYTE, at), "C's byte " + at);
                }
            }
            long start = System.nanoTime();
            a.close();
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "close returned");
        }
    }

    /** Writes below the provider's limit to a live peer keep landing while writes to a silent peer time out. */
    @Test
    void smallWritesToALivePeerFlowWhileAPeerIsSilent() throws Exception {
        try (Arena arena = Arena.ofShared(); TransferEngine a = writer(); TransferEngine c = target("silent-c2")) {
            MemoryRegion src = a.register(arena.allocate(4096, 64).fill((byte) 0x3A), Access.LOCAL);
            MemorySegment cMemory = arena.allocate(4096, 64);
            RemoteRegion toC = c.register(cMemory, Access.REMOTE_WRITE).descriptor();
            ImmCounter cImms = c.immCounter(9);
            RemoteRegion toB;
            try (TransferEngine b = target("silent-b2")) {
                toB = b.register(arena.allocate(4096, 64), Access.REMOTE_WRITE).descriptor();
            }
            List<CompletableFuture<Void>> silent = new ArrayList<>();
            List<CompletableFuture<Void>> live = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                silent.add(a.submit(SingleWrite.withImm(src, 0, 4096, toB, 0, 1)));
                live.add(a.submit(SingleWrite.withImm(src, 0, 4096, toC, 0, 9)));
            }
            for (CompletableFuture<Void> f : live) {
                f.get(30, TimeUnit.SECONDS);
            }
            cImms.await(live.size(), Duration.ofSeconds(30));
            assertEquals((byte) 0x3A, cMemory.get(ValueLayout.JAVA_BYTE, 4095));
            for (CompletableFuture<Void> f : silent) {
                ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> f.get(30, TimeUnit.SECONDS));
                assertEquals(ErrorCategory.TIMEOUT, assertInstanceOf(TransferException.class, e.getCause()).category());
            }
        }
    }
}
