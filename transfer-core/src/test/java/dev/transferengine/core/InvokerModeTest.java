package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ThreadingMode#INVOKER}: the application's thread drives a group; nothing moves while nobody invokes it;
 * waiting on counters and futures makes progress; one thread at a time touches the group's NICs; close fails what
 * is queued.
 */
class InvokerModeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger IMMS = new AtomicInteger(0x4e00_0000);

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void tearDown() {
        StuckNativeProvider.reset();
        arena.close();
    }

    private static TransferEngine invokerEngine(String provider, String name) {
        return TransferEngine.builder().provider(provider).name(name).threadingMode(ThreadingMode.INVOKER).build();
    }

    private MemorySegment pattern(long bytes, int seed) {
        MemorySegment s = arena.allocate(bytes, 4096);
        for (long i = 0; i < bytes; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return s;
    }

    @Test
    void writesMoveOnlyWhenInvokedAndLandIntact() {
        try (TransferEngine a = invokerEngine("loopback", "inv-a");
             TransferEngine b = invokerEngine("loopback", "inv-b")) {
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith("inv-a-worker")), "no worker thread in invoker mode");
            MemorySegment srcMem = pattern(64 * 1024, 7);
            MemorySegment dstMem = arena.allocate(64 * 1024, 4096);
            MemoryRegion src = a.register(srcMem, Access.LOCAL);
            MemoryRegion dst = b.register(dstMem, Access.REMOTE_WRITE);
            int imm = IMMS.incrementAndGet();
            ImmCounter arrived = b.immCounter(imm);
            TransferCounter done = new TransferCounter();

            a.submit(SingleWrite.withImm(src, 0, 64 * 1024, dst.descriptor(), 0, imm), done);
            assertEquals(0, done.completed(), "nothing runs the group until it is invoked");
            assertEquals(0, dstMem.get(ValueLayout.JAVA_LONG, 8), "no byte moved before an invoke");

            done.await(1, WAIT, a.invoker(0));
            arrived.await(1, WAIT, b.invoker(0));
            assertEquals(0, done.failed());
            assertEquals(-1, srcMem.mismatch(dstMem), "every byte landed");
        }
    }

    @Test
    void aFutureIsAwaitedByInvokingAndManyWritesCompleteThroughOneCounter() {
        try (TransferEngine a = invokerEngine("loopback", "inv-c")) {
            MemorySegment srcMem = pattern(256 * 1024, 3);
            MemorySegment dstMem = arena.allocate(256 * 1024, 4096);
            MemoryRegion src = a.register(srcMem, Access.LOCAL);
            MemoryRegion dst = a.register(dstMem, Access.REMOTE_WRITE);
            GroupInvoker invoker = a.invoker(0);
            CompletableFuture<Void> first = a.submit(SingleWrite.of(src, 0, 1024, dst.descriptor(), 0));
            invoker.invokeUntil(first::isDone, WAIT);
            assertFalse(first.isCompletedExceptionally());

            TransferCounter done = new TransferCounter();
            for (int i = 1; i < 256; i++) {
                a.submit(SingleWrite.of(src, i * 1024L, 1024, dst.descriptor(), i * 1024L), done);
            }
            done.await(255, WAIT, invoker);
            assertEquals(0, done.failed());
            assertEquals(-1, srcMem.mismatch(dstMem));
        }
    }

    @Test
    void aSecondThreadNeverEntersTheGroupWhileOneIsInsideACycle() throws Exception {
        TransferEngine a = invokerEngine("stuck-native", "inv-d");
        try {
            GroupInvoker invoker = a.invoker(0);
            StuckNativeProvider.pollGate = new CountDownLatch(1);
            CompletableFuture<Integer> first = CompletableFuture.supplyAsync(invoker::invoke);
            StuckNativeProvider.awaitBlocked(); // the first thread is inside poll, holding the group
            for (int i = 0; i < 100; i++) {
                assertEquals(0, invoker.invoke(), "a second thread does nothing while the group is taken");
            }
            assertEquals(1, StuckNativeProvider.BLOCKED.get(), "only one thread ever entered the domain");
            StuckNativeProvider.reset();
            first.get();
            StuckNativeProvider.pollGate = null;
            // The group is free again: this thread's cycle now reaches the domain.
            MemoryRegion r = a.register(arena.allocate(4096), Access.REMOTE_WRITE);
            assertTrue(r.isOpen());
        } finally {
            StuckNativeProvider.reset();
            a.close();
        }
    }

    @Test
    void closeFailsQueuedRequestsAndLaterInvokesFailClosed() {
        TransferEngine a = invokerEngine("loopback", "inv-e");
        MemoryRegion src = a.register(pattern(4096, 1), Access.LOCAL);
        MemoryRegion dst = a.register(arena.allocate(4096), Access.REMOTE_WRITE);
        GroupInvoker invoker = a.invoker(0);
        TransferCounter done = new TransferCounter();
        for (int i = 0; i < 100; i++) {
            a.submit(SingleWrite.of(src, 0, 4096, dst.descriptor(), 0), done);
        }
        a.close(); // nobody invoked: all 100 are still queued
        assertEquals(100, done.completed(), "each queued request completes exactly once");
        assertEquals(100, done.failed());
        assertInstanceOf(ClosedException.class, done.firstError());
        ClosedException e = assertThrows(ClosedException.class, invoker::invoke);
        assertEquals(ErrorCategory.CLOSED, e.category());
        assertFalse(src.isOpen(), "close deregistered on the closing thread");
    }

    @Test
    void aSubmitterFacingAFullQueueRunsTheGroupToMakeRoom() {
        try (TransferEngine a = TransferEngine.builder().name("inv-h").threadingMode(ThreadingMode.INVOKER)
                .requestQueueCapacity(8).operationTimeout(Duration.ofSeconds(5)).build()) {
            MemorySegment srcMem = pattern(100 * 64, 9);
            MemorySegment dstMem = arena.allocate(100 * 64, 4096);
            MemoryRegion src = a.register(srcMem, Access.LOCAL);
            MemoryRegion dst = a.register(dstMem, Access.REMOTE_WRITE);
            TransferCounter done = new TransferCounter();
            // Nobody else invokes: with an 8-slot queue, submits 9..100 only return because the submitting thread
            // drives the group while it waits for room (otherwise: BACK_PRESSURE after the 5 s operation timeout).
            for (int i = 0; i < 100; i++) {
                a.submit(SingleWrite.of(src, i * 64L, 64, dst.descriptor(), i * 64L), done);
            }
            assertTrue(done.completed() > 0, "the submitter's own cycles completed earlier writes");
            done.await(100, WAIT, a.invoker(0));
            assertEquals(0, done.failed());
            assertEquals(-1, srcMem.mismatch(dstMem));
        }
    }

    @Test
    void aDedicatedEngineHasNoInvoker() {
        try (TransferEngine a = TransferEngine.builder().name("inv-f").build()) {
            assertThrows(InvalidRequestException.class, () -> a.invoker(0));
        }
        try (TransferEngine a = invokerEngine("loopback", "inv-g")) {
            assertThrows(InvalidRequestException.class, () -> a.invoker(1));
        }
    }
}
