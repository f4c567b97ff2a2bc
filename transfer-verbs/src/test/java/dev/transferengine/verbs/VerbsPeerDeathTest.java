package dev.transferengine.verbs;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.testing.ChildJvm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.transferengine.verbs.ReceiverProcessMain.answer;
import static dev.transferengine.verbs.ReceiverProcessMain.call;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peer death on verbs (issue 9), in the Soft-RoCE guest: a receiver process is SIGKILLed while a window of writes
 * to it is in flight. Every write to it then ends with a typed error (PEER_UNREACHABLE or TIMEOUT) within twice
 * the transfer timeout of its submission, writes submitted after the kill fail too, a second receiver process
 * keeps receiving throughout (its own queue pair, untouched: every byte and imm), and a restarted receiver (new
 * process, new address) is reachable from the same surviving engine.
 */
@Tag(SoftRoce.TAG)
class VerbsPeerDeathTest {
    private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(10);
    private static final int WRITE = 64 * 1024;
    private static final int WINDOW = 64;
    private static final int LANDED_BEFORE_KILL = 16;
    private static final int DOOMED_IMM = 0x0DEAD;
    private static final int BYSTANDER_IMM = 0x0B1;
    private static final int REBORN_IMM = 0x0B2;

    private record Outcome(long submitted, long ended, TransferException error) {
    }

    @Test
    void writesInFlightToAKilledPeerFailInTimeWhileABystanderIsServedAndASuccessorIsReachable() throws Exception {
        SoftRoce.requireDevice();
        try (TransferEngine engine = TransferEngine.builder().provider("verbs").groups(1, 1).name("survivor")
                .transferTimeout(TRANSFER_TIMEOUT)
                .providerOption("verbs.peerTimeoutMillis", "4000")
                .providerOption("verbs.handshakeTimeoutMillis", "5000").build();
             Arena arena = Arena.ofShared();
             ChildJvm bystander = ReceiverProcessMain.start()) {
            MemorySegment source = arena.allocate(ReceiverProcessMain.REGION_BYTES, 4096);
            for (long i = 0; i < source.byteSize(); i++) {
                source.set(JAVA_BYTE, i, (byte) (i * 13 + 5));
            }
            MemoryRegion src = engine.register(source, Access.LOCAL);
            RemoteRegion bystanderRegion = RemoteRegion.fromHex(answer(bystander).split(" ")[2]);
            call(bystander, "COUNT " + BYSTANDER_IMM);

            // The bystander: one 16 KiB write at a time, to offset 0, until stopped.
            AtomicLong bystanderDone = new AtomicLong();
            AtomicReference<Throwable> bystanderError = new AtomicReference<>();
            Thread stream = Thread.ofPlatform().name("bystander-stream").start(() -> {
                while (!Thread.currentThread().isInterrupted() && bystanderError.get() == null) {
                    try {
                        engine.submit(SingleWrite.withImm(src, 0, 16384, bystanderRegion, 0, BYSTANDER_IMM))
                                .get(60, TimeUnit.SECONDS);
                        bystanderDone.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        bystanderError.set(e);
                    }
                }
            });

            List<CompletableFuture<Outcome>> pending = new ArrayList<>();
            long killedAt;
            int submittedBeforeKill;
            RemoteRegion doomedRegion;
            try (ChildJvm doomed = ReceiverProcessMain.start()) {
                doomedRegion = RemoteRegion.fromHex(answer(doomed).split(" ")[2]);
                Semaphore window = new Semaphore(WINDOW);
                AtomicLong landed = new AtomicLong();
                long feedUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                for (int i = 0; landed.get() < LANDED_BEFORE_KILL || window.availablePermits() > 0; i++) {
                    assertTrue(System.nanoTime() < feedUntil, "only " + landed.get() + " writes landed at the peer");
                    if (!window.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    long offset = (long) (i % (ReceiverProcessMain.REGION_BYTES / WRITE)) * WRITE;
                    pending.add(tracked(engine, SingleWrite.withImm(src, offset, WRITE, doomedRegion, offset,
                            DOOMED_IMM), window, landed));
                }
                killedAt = System.nanoTime();
                doomed.kill();
                submittedBeforeKill = pending.size();
                for (int i = 0; i < 8; i++) {
                    pending.add(tracked(engine, SingleWrite.withImm(src, 0, WRITE, doomedRegion, 0, DOOMED_IMM),
                            null, null));
                }
            }

            int failed = 0;
            long lastEnd = killedAt;
            for (int i = 0; i < pending.size(); i++) {
                Outcome o = pending.get(i).get(4 * TRANSFER_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
                long took = o.ended - o.submitted;
                assertTrue(took <= 2 * TRANSFER_TIMEOUT.toNanos(), "a write to the dead peer took " + took / 1_000_000
                        + " ms, more than twice the " + TRANSFER_TIMEOUT.toMillis() + " ms transfer timeout");
                lastEnd = Math.max(lastEnd, o.ended);
                if (o.error == null) {
                    assertTrue(i < submittedBeforeKill, "a write submitted after the peer was killed succeeded");
                    continue;
                }
                assertTrue(o.error.category() == ErrorCategory.PEER_UNREACHABLE
                        || o.error.category() == ErrorCategory.TIMEOUT, o.error::toString);
                failed++;
            }
            assertTrue(failed >= 8, "only " + failed + " writes to the dead peer failed (8 were submitted after"
                    + " the kill)");

            // Fail-fast: once the reconnect has failed (the peer is FAILED), writes to it fail at once instead of
            // waiting a peer timeout each. Probe one write at a time until one fails fast, then 8 more must.
            long probeUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long probeTook;
            int probes = 0;
            do {
                assertTrue(System.nanoTime() < probeUntil, "no write to the dead peer failed fast within a minute");
                Outcome o = tracked(engine, SingleWrite.withImm(src, 0, WRITE, doomedRegion, 0, DOOMED_IMM), null,
                        null).get(4 * TRANSFER_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
                assertNotNull(o.error, "a write to the dead peer succeeded");
                probeTook = o.ended - o.submitted;
                probes++;
            } while (probeTook > FAST_FAIL.toNanos());
            long slowest = 0;
            for (int i = 0; i < 8; i++) {
                Outcome o = tracked(engine, SingleWrite.withImm(src, 0, WRITE, doomedRegion, 0, DOOMED_IMM), null,
                        null).get(60, TimeUnit.SECONDS);
                assertNotNull(o.error, "a write to the dead peer succeeded");
                assertEquals(ErrorCategory.PEER_UNREACHABLE, o.error.category(), o.error::toString);
                slowest = Math.max(slowest, o.ended - o.submitted);
            }
            assertTrue(slowest <= FAST_FAIL.toNanos(), "a write to the known-dead peer took " + slowest / 1_000_000
                    + " ms to fail");
            System.out.printf("verbs peer death: fail-fast after %d probe writes, %d ms after the kill; 8 more failed"
                    + " PEER_UNREACHABLE within %d us each%n", probes, (System.nanoTime() - killedAt) / 1_000_000,
                    slowest / 1000);

            // The bystander kept going, and keeps going after every write to the dead peer has ended.
            long atEnd = bystanderDone.get();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (bystanderDone.get() < atEnd + 10 && bystanderError.get() == null && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            stream.interrupt();
            stream.join(TimeUnit.SECONDS.toMillis(70));
            assertNull(bystanderError.get(), () -> "a write to the live peer failed: " + bystanderError.get());
            assertTrue(bystanderDone.get() >= atEnd + 10, "the live peer got " + (bystanderDone.get() - atEnd)
                    + " writes after the dead peer's writes ended");
            call(bystander, "AWAIT " + BYSTANDER_IMM + " " + bystanderDone.get());
            assertEquals("CRC " + ReceiverProcessMain.crc(source.asSlice(0, 16384)), call(bystander, "CRC 0 16384"));

            // A restarted peer: new process, new address, the same surviving engine.
            try (ChildJvm reborn = ReceiverProcessMain.start()) {
                RemoteRegion rebornRegion = RemoteRegion.fromHex(answer(reborn).split(" ")[2]);
                call(reborn, "COUNT " + REBORN_IMM);
                engine.submit(SingleWrite.withImm(src, 4096, WRITE, rebornRegion, 8192, REBORN_IMM))
                        .get(60, TimeUnit.SECONDS);
                call(reborn, "AWAIT " + REBORN_IMM + " 1");
                assertEquals("CRC " + ReceiverProcessMain.crc(source.asSlice(4096, WRITE)),
                        call(reborn, "CRC 8192 " + WRITE));
            }
            System.out.printf("verbs peer death: %d writes to the killed peer, %d failed, all ended %d ms after the"
                            + " kill; live peer: %d writes%n", pending.size(), failed, (lastEnd - killedAt) / 1_000_000,
                    bystanderDone.get());
        }
    }

    /** How fast a write to a peer known dead must fail: far below the 4 s peer timeout. */
    private static final Duration FAST_FAIL = Duration.ofMillis(500);

    /** Submits {@code w}; releases a window permit and counts it as landed when it succeeds. */
    private static CompletableFuture<Outcome> tracked(TransferEngine engine, SingleWrite w, Semaphore window,
                                                      AtomicLong landed) {
        long submitted = System.nanoTime();
        return engine.submit(w).handle((ok, error) -> {
            long ended = System.nanoTime();
            if (window != null) {
                window.release();
            }
            if (error == null) {
                if (landed != null) {
                    landed.incrementAndGet();
                }
                return new Outcome(submitted, ended, null);
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            return new Outcome(submitted, ended, assertInstanceOf(TransferException.class, cause, "untyped failure"));
        });
    }
}
