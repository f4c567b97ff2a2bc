package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.EngineHealth;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.efa.internal.ShmLocks;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * shm (libfabric 1.17): a peer process killed while it holds a spin lock of libfabric's shared regions, which before
 * wedged the survivor's worker for good (docs/reliability.md, "Recovering from a peer that died inside libfabric").
 * A kill at a random moment hits the lock only sometimes ({@link PeerDeathTest} kills mid-stream); here the doomed
 * child takes the lock itself ({@code HOLD}, through the region file, as libfabric does) and is then SIGKILLed, so
 * every run is the bad case. Real libfabric shm, three processes: this JVM (the survivor), the doomed child and a
 * bystander child.
 */
class ShmDeadLockHolderTest {
    private static final int MIB = 1 << 20;
    private static final int REGION = 4 * MIB;
    private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(3);
    private static final int DOOMED_IMM = 6;
    private static final int BYSTANDER_IMM = 8;
    /** Sizes of the writes to the bystander after the kill: inline, inject and CMA protocols. */
    private static final int[] SIZES = {64, 4096, 65536, MIB};

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    /**
     * The doomed peer dies holding the survivor's own region lock (as if killed while queueing a command to it): the
     * survivor's worker spins in fi_cq_read at its next poll. The sentinel releases the lock and the writes to the
     * bystander land.
     */
    @Test
    void aPeerKilledHoldingTheSurvivorsLockDoesNotWedgeIt() throws Exception {
        try (TransferEngine engine = survivor("own");
             Arena arena = Arena.ofShared();
             TargetProcess bystander = new TargetProcess("shm", 1, REGION, true, BYSTANDER_IMM)) {
            MemoryRegion src = engine.register(arena.allocate(MIB, 4096).fill((byte) 0x5A), Access.LOCAL);
            byte[] survivorAddress = engine.mainAddress().bytes();
            try (TargetProcess doomed = new TargetProcess("shm", 1, REGION, true, DOOMED_IMM)) {
                engine.submit(SingleWrite.withImm(src, 0, 4096, doomed.region, 0, DOOMED_IMM)).get(30, TimeUnit.SECONDS);
                assertEquals(1, doomed.count(DOOMED_IMM, 1));
                assertEquals("HELD true", doomed.ask("HOLD " + engine.mainAddress().toHex(), "HELD"));
                assertEquals(Boolean.TRUE, ShmLocks.held(survivorAddress), "the survivor's lock is taken");
                doomed.kill();
            }
            long killedAt = System.nanoTime();
            writeEverySizeTo(engine, src, bystander);
            long tookMillis = (System.nanoTime() - killedAt) / 1_000_000;
            assertEquals(Boolean.FALSE, ShmLocks.held(survivorAddress), "the dead holder's lock was released");
            awaitRunning(engine);
            System.out.printf("shm dead lock holder [own region]: %d writes to the bystander landed %d ms after the"
                    + " kill%n", SIZES.length, tookMillis);
            assertTrue(tookMillis < 2 * TRANSFER_TIMEOUT.toMillis(), "recovery took " + tookMillis + " ms");
        }
    }

    /**
     * The doomed peer dies holding its own region lock (as if killed while progressing its commands): the survivor's
     * next post to it spins, and the writes it had queued there are never answered, which in shm's one response FIFO
     * per endpoint held every later large write to any peer behind them. Every write to the dead peer must end
     * PEER_UNREACHABLE in time, and large writes to the bystander must complete.
     */
    @Test
    void aPeerKilledHoldingItsOwnLockFailsItsWritesAndFreesTheOthers() throws Exception {
        try (TransferEngine engine = survivor("peer");
             Arena arena = Arena.ofShared();
             TargetProcess bystander = new TargetProcess("shm", 1, REGION, true, BYSTANDER_IMM)) {
            MemoryRegion src = engine.register(arena.allocate(MIB, 4096).fill((byte) 0x5A), Access.LOCAL);
            List<CompletableFuture<Void>> toDoomed = new ArrayList<>();
            List<Long> submitted = new ArrayList<>();
            long killedAt;
            try (TargetProcess doomed = new TargetProcess("shm", 1, REGION, true, DOOMED_IMM)) {
                engine.submit(SingleWrite.withImm(src, 0, 4096, doomed.region, 0, DOOMED_IMM)).get(30, TimeUnit.SECONDS);
                assertEquals(1, doomed.count(DOOMED_IMM, 1));
                assertEquals("HELD true", doomed.ask("HOLD", "HELD"));
                for (int i = 0; i < 16; i++) { // 1 MiB each: CMA writes, answered through the response queue
                    submitted.add(System.nanoTime());
                    toDoomed.add(engine.submit(SingleWrite.withImm(src, 0, MIB, doomed.region, (i % 4) * (long) MIB,
                            DOOMED_IMM)));
                }
                Thread.sleep(200); // the survivor's worker is now spinning on the doomed peer's lock
                killedAt = System.nanoTime();
                doomed.kill();
            }
            int answered = 0;
            for (int i = 0; i < toDoomed.size(); i++) {
                CompletableFuture<Void> f = toDoomed.get(i);
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS),
                        "a write to the dead peer succeeded or never ended");
                TransferException te = assertInstanceOf(TransferException.class, e.getCause());
                assertEquals(ErrorCategory.PEER_UNREACHABLE, te.category(), te::toString);
                // posted before the death: answered by the engine; after it: refused by the pid check
                assertTrue(te.getMessage().contains("died with it in flight") || te.getMessage().contains("is gone"),
                        te::getMessage);
                answered += te.getMessage().contains("died with it in flight") ? 1 : 0;
            }
            assertTrue(answered >= 1, "no write was failed by answering its response for the dead peer");
            long endedMillis = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(System.nanoTime() - submitted.get(0) < 2 * TRANSFER_TIMEOUT.toNanos(),
                    "the writes to the dead peer ended " + endedMillis + " ms after the kill");
            long before = System.nanoTime();
            writeEverySizeTo(engine, src, bystander);
            awaitRunning(engine);
            System.out.printf("shm dead lock holder [peer region]: %d writes to the dead peer failed PEER_UNREACHABLE"
                            + " by %d ms after the kill (%d answered for the dead peer); %d writes to the bystander then"
                            + " took %d ms%n", toDoomed.size(), endedMillis, answered, SIZES.length,
                    (System.nanoTime() - before) / 1_000_000);
        }
    }

    private static TransferEngine survivor(String what) {
        return TransferEngine.builder().provider("shm").groups(1, 1).name("survivor-" + what)
                .transferTimeout(TRANSFER_TIMEOUT).build();
    }

    /** One write of each size with imm to the bystander, one at a time; bytes and imms checked. */
    private static void writeEverySizeTo(TransferEngine engine, MemoryRegion src, TargetProcess bystander)
            throws Exception {
        long offset = 0;
        byte[] expected = new byte[REGION];
        for (int size : SIZES) {
            engine.submit(SingleWrite.withImm(src, 0, size, bystander.region, offset, BYSTANDER_IMM))
                    .get(30, TimeUnit.SECONDS);
            Arrays.fill(expected, (int) offset, (int) offset + size, (byte) 0x5A);
            offset += size;
        }
        assertEquals(SIZES.length, bystander.count(BYSTANDER_IMM, SIZES.length));
        assertEquals(TargetProcessMain.crc(expected), bystander.checksum(0, REGION));
    }

    /** The survivor's worker completes duty cycles again (the watchdog may have seen it stuck meanwhile). */
    private static void awaitRunning(TransferEngine engine) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        EngineHealth h = engine.health();
        while (h.groups().stream().anyMatch(g -> g.state() != EngineHealth.WorkerState.RUNNING)) {
            assertTrue(System.nanoTime() < deadline, "the survivor's worker is not running: " + h);
            Thread.sleep(50);
            h = engine.health();
        }
    }
}
