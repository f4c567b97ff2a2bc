package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9 through the engine, two engines in this JVM: a write the target must refuse never changes the target's
 * memory and never delivers an imm, and its outcome at the writer is one of the documented ones, within the
 * transfer deadline: tcp reports REMOTE_ACCESS; shm reports REMOTE_ACCESS at once from the writer's key check
 * (the peer's published registrations, {@code KeyTable}). With that check off ({@link #SHM_TARGET_CHECK_ONLY}) only
 * the target's verification is left, and libfabric 1.17's shm reports nothing: a write of up to 4 KiB completes
 * normally, a larger one fails with TIMEOUT at the transfer deadline (docs/reliability.md); the bytes stay safe.
 * Before issue 9's first fix, every imm-less case here overwrote the target on shm.
 */
class RefusedWriteEngineTest {
    static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(3);
    /** shm with the writer's key check off: only the target's verification, which reports nothing. */
    static final String SHM_TARGET_CHECK_ONLY = "shm-target-check-only";
    static final int TARGET_BYTES = 256 * 1024;
    private static final AtomicInteger NEXT_IMM = new AtomicInteger(0x5E00_0000);

    private final Arena arena = Arena.ofShared();
    private TransferEngine writer;
    private TransferEngine target;
    private MemoryRegion src;

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    private void open(String alias) {
        target = builder(alias).name("refused-target").build();
        writer = builder(alias).name("refused-writer").build();
        src = writer.register(arena.allocate(TARGET_BYTES, 4096).fill((byte) 0x5A), Access.LOCAL);
    }

    private static TransferEngine.Builder builder(String alias) {
        TransferEngine.Builder b = TransferEngine.builder().groups(1, 1).transferTimeout(TRANSFER_TIMEOUT);
        return alias.equals(SHM_TARGET_CHECK_ONLY)
                ? b.provider("shm").providerOption(LibfabricOptions.KEY_TABLE, "false")
                : b.provider(alias);
    }

    @AfterEach
    void close() {
        if (writer != null) {
            writer.close();
        }
        if (target != null) {
            target.close();
        }
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp", SHM_TARGET_CHECK_ONLY})
    void wrongKeyWithoutImm(String alias) throws Exception {
        open(alias);
        MemorySegment memory = arena.allocate(TARGET_BYTES, 4096);
        RemoteRegion real = target.register(memory, Access.REMOTE_WRITE).descriptor();
        for (long length : new long[] {1000, 64 * 1024}) {
            RemoteRegion wrongKey = new RemoteRegion(real.baseAddress(), real.lengthBytes(), real.nics().stream()
                    .map(k -> new RemoteRegion.NicKey(k.address(), k.remoteKey() ^ 0x5A5A_0000_00A5_A5A5L,
                            k.remoteBase())).toList());
            refused(alias, SingleWrite.of(src, 0, length, wrongKey, 0), length, memory, -1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp", SHM_TARGET_CHECK_ONLY})
    void staleKeyWithoutImm(String alias) throws Exception {
        open(alias);
        MemorySegment memory = arena.allocate(TARGET_BYTES, 4096);
        MemoryRegion first = target.register(memory, Access.REMOTE_WRITE);
        RemoteRegion stale = first.descriptor();
        first.close();
        MemoryRegion again = target.register(memory, Access.REMOTE_WRITE);
        assertNotEquals(stale.nic(0).remoteKey(), again.descriptor().nic(0).remoteKey());
        refused(alias, SingleWrite.of(src, 0, 1000, stale, 100), 1000, memory, -1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp", SHM_TARGET_CHECK_ONLY})
    void realKeyOutsideTheRegistrationWithoutImm(String alias) throws Exception {
        open(alias);
        MemorySegment memory = arena.allocate(TARGET_BYTES, 4096);
        RemoteRegion real = target.register(memory.asSlice(0, 64 * 1024), Access.REMOTE_WRITE).descriptor();
        // claims twice the length: the engine lets it through, the target must refuse
        RemoteRegion tooLong = new RemoteRegion(real.baseAddress(), real.lengthBytes() * 2, real.nics());
        refused(alias, SingleWrite.of(src, 0, 1000, tooLong, 64 * 1024), 1000, memory, -1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp", SHM_TARGET_CHECK_ONLY})
    void immWritesToAClosedRegion(String alias) throws Exception {
        open(alias);
        MemorySegment memory = arena.allocate(TARGET_BYTES, 4096);
        MemoryRegion region = target.register(memory, Access.REMOTE_WRITE);
        RemoteRegion closed = region.descriptor();
        region.close();
        for (long length : new long[] {1000, 64 * 1024}) {
            int imm = NEXT_IMM.incrementAndGet();
            refused(alias, SingleWrite.withImm(src, 0, length, closed, 0, imm), length, memory, imm);
        }
    }

    /**
     * Submits {@code write}, checks its outcome, then sends a valid small imm write to a fresh region (processed
     * after the refused one: shm handles a peer's commands in order, tcp reconnects first) and checks that
     * {@code memory} is still all zero and no imm of the refused write arrived.
     */
    private void refused(String alias, SingleWrite write, long length, MemorySegment memory, int imm)
            throws Exception {
        ImmCounter refusedImms = imm >= 0 ? target.immCounter(imm) : null;
        long start = System.nanoTime();
        CompletableFuture<Void> f = writer.submit(write);
        TransferException error = null;
        try {
            f.get(TRANSFER_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            error = assertInstanceOf(TransferException.class, e.getCause());
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (alias.equals("tcp")) {
            assertTrue(error != null, "tcp reports a refused write");
            ErrorCategory c = error.category();
            assertTrue(c == ErrorCategory.REMOTE_ACCESS || length > 4096 && c == ErrorCategory.PEER_UNREACHABLE,
                    error::toString);
        } else if (alias.equals("shm")) {
            assertTrue(error != null && error.category() == ErrorCategory.REMOTE_ACCESS,
                    () -> "shm: the writer's key check refuses it: " + f);
            assertTrue(millis < 1_000, "refused at once, not at the deadline: " + millis + " ms");
        } else if (length <= 4096) {
            assertEquals(null, error, "shm 1.17: a refused write of up to 4 KiB completes at the writer");
        } else {
            assertTrue(error != null && error.category() == ErrorCategory.TIMEOUT,
                    () -> "shm 1.17: a refused write over 4 KiB never completes; the deadline fails it");
        }
        assertTrue(millis < TRANSFER_TIMEOUT.toMillis() + 5_000, "outcome within the deadline: " + millis + " ms");

        MemorySegment probeMemory = arena.allocate(4096, 4096);
        RemoteRegion probe = target.register(probeMemory, Access.REMOTE_WRITE).descriptor();
        int probeImm = NEXT_IMM.incrementAndGet();
        ImmCounter probeImms = target.immCounter(probeImm);
        writer.submit(SingleWrite.withImm(src, 0, 64, probe, 0, probeImm)).get(60, TimeUnit.SECONDS);
        probeImms.await(1, Duration.ofSeconds(60));
        assertEquals(-1, memory.mismatch(arena.allocate(memory.byteSize())), "a refused write changed the target");
        if (refusedImms != null) {
            assertEquals(0, refusedImms.arrived(), "a refused write delivered its imm");
        }
    }
}
