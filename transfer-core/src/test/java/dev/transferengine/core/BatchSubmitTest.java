package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link TransferEngine#submit(TransferRequest[], int, int, TransferCounter)} and its list form: every request of the
 * batch (and only those) lands and completes the counter once; a bad request rejects the whole batch before anything
 * is queued; a batch larger than the request queue goes through in parts.
 */
class BatchSubmitTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger IMMS = new AtomicInteger(0x4b00_0000);
    private static final int PIECE = 1024;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private MemorySegment pattern(long bytes) {
        MemorySegment s = arena.allocate(bytes, 4096);
        for (long i = 0; i < bytes; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13 + 5));
        }
        return s;
    }

    private static TransferRequest[] pieces(MemoryRegion src, MemoryRegion dst, int n, int imm) {
        TransferRequest[] batch = new TransferRequest[n];
        for (int i = 0; i < n; i++) {
            batch[i] = SingleWrite.withImm(src, (long) i * PIECE, PIECE, dst.descriptor(), (long) i * PIECE, imm);
        }
        return batch;
    }

    @Test
    void aSliceOfAnArrayLandsExactlyAndCompletesOncePerRequest() {
        try (TransferEngine a = TransferEngine.builder().name("batch-a").build()) {
            MemorySegment srcMem = pattern(64 * PIECE);
            MemorySegment dstMem = arena.allocate(64 * PIECE, 4096);
            MemoryRegion src = a.register(srcMem, Access.LOCAL);
            MemoryRegion dst = a.register(dstMem, Access.REMOTE_WRITE);
            int imm = IMMS.incrementAndGet();
            ImmCounter arrived = a.immCounter(imm);
            TransferRequest[] batch = pieces(src, dst, 64, imm);
            TransferCounter done = new TransferCounter();

            a.submit(batch, 8, 48, done);
            done.await(48, WAIT);
            arrived.await(48, WAIT);
            assertEquals(0, done.failed());
            assertEquals(48, done.completed());
            assertEquals(48, arrived.arrived());
            MemorySegment zero = arena.allocate(8 * PIECE);
            assertEquals(-1, dstMem.asSlice(0, 8 * PIECE).mismatch(zero), "requests before the slice not submitted");
            assertEquals(-1, dstMem.asSlice(56 * PIECE).mismatch(zero), "requests after the slice not submitted");
            assertEquals(-1, dstMem.asSlice(8 * PIECE, 48 * PIECE).mismatch(srcMem.asSlice(8 * PIECE, 48 * PIECE)));
        }
    }

    @Test
    void oneBadRequestRejectsTheWholeBatch() {
        try (TransferEngine a = TransferEngine.builder().name("batch-b").threadingMode(ThreadingMode.INVOKER).build()) {
            MemorySegment dstMem = arena.allocate(16 * PIECE, 4096);
            MemoryRegion src = a.register(pattern(16 * PIECE), Access.LOCAL);
            MemoryRegion dst = a.register(dstMem, Access.REMOTE_WRITE);
            int imm = IMMS.incrementAndGet();
            TransferRequest[] batch = pieces(src, dst, 16, imm);
            batch[11] = SingleWrite.of(src, 15L * PIECE, 2 * PIECE, dst.descriptor(), 0); // past the source's end
            TransferCounter done = new TransferCounter();

            assertThrows(InvalidRequestException.class, () -> a.submit(batch, 0, 16, done));
            assertThrows(InvalidRequestException.class, () -> a.submit(batch, 10, 7, done)); // past the array
            // A later request goes through the group's queue and completes; nothing of the batch was queued before it.
            TransferCounter marker = new TransferCounter();
            a.submit(List.of(SingleWrite.of(src, 0, 8, dst.descriptor(), 0)), marker);
            marker.await(1, WAIT, a.invoker(0));
            for (int i = 0; i < 100; i++) {
                a.invoker(0).invoke();
            }
            assertEquals(0, done.completed(), "no request of a rejected batch was submitted");
            assertEquals(-1, dstMem.asSlice(8).mismatch(arena.allocate(16 * PIECE - 8)), "no byte of it landed");
        }
    }

    @Test
    void aListLargerThanTheRequestQueueGoesThroughInParts() {
        try (TransferEngine a = TransferEngine.builder().name("batch-c").requestQueueCapacity(8).build()) {
            MemorySegment srcMem = pattern(200 * PIECE);
            MemorySegment dstMem = arena.allocate(200 * PIECE, 4096);
            MemoryRegion src = a.register(srcMem, Access.LOCAL);
            MemoryRegion dst = a.register(dstMem, Access.REMOTE_WRITE);
            int imm = IMMS.incrementAndGet();
            ImmCounter arrived = a.immCounter(imm);
            List<TransferRequest> batch = new ArrayList<>(List.of(pieces(src, dst, 200, imm)));
            TransferCounter done = new TransferCounter();

            a.submit(batch, done);
            done.await(200, WAIT);
            arrived.await(200, WAIT);
            assertEquals(0, done.failed());
            assertEquals(200, arrived.arrived());
            assertEquals(-1, srcMem.mismatch(dstMem));
        }
    }
}
