package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.testing.AllocationMeter;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In invoker mode the whole hot path runs on the test's thread: submit (single and batch), the queue, both engines'
 * duty cycles (intake, plan, post, poll, completion counting, imm counting) and the awaits. So this thread's
 * allocation counter measures the engine end to end, and it must stay at zero in steady state.
 */
class InvokerAllocationTest {
    private static final int WARM_UP = 20_480; // a multiple of BATCH
    private static final int MEASURED = 64_000;
    private static final int BATCH = 64;
    /** Far below one object per write (16+ bytes x 64k): room for stray JVM bookkeeping only. */
    private static final long ALLOWED_BYTES = 64 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int IMM = 0x1A11_0C00;

    @Test
    void singleAndBatchWritesAllocateNothingEndToEnd() {
        measure();
    }

    /**
     * The same with a JFR recording that wants every transfer (threshold 0) and every transfer error: each
     * pooled transfer slot re-arms its own event, so recording adds no allocation per transfer.
     */
    @Test
    void recordingEveryTransferWithJfrAllocatesNothingEither() {
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable(dev.transferengine.core.jfr.TransferEvent.NAME).withThreshold(Duration.ZERO);
            recording.enable(dev.transferengine.core.jfr.TransferErrorEvent.NAME);
            recording.start();
            measure();
            recording.stop();
        }
    }

    private static void measure() {
        AllocationMeter meter = AllocationMeter.forCurrentThread();
        try (Arena arena = Arena.ofShared();
             TransferEngine a = TransferEngine.builder().name("alloc-a").threadingMode(ThreadingMode.INVOKER).build();
             TransferEngine b = TransferEngine.builder().name("alloc-b").threadingMode(ThreadingMode.INVOKER).build()) {
            MemoryRegion src = a.register(arena.allocate(4096), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(4096), Access.REMOTE_WRITE);
            SingleWrite write = SingleWrite.withImm(src, 0, 4096, dst.descriptor(), 0, IMM);
            TransferRequest[] batch = new TransferRequest[BATCH];
            Arrays.fill(batch, write);
            TransferCounter done = new TransferCounter();
            ImmCounter imms = b.immCounter(IMM);
            GroupInvoker sender = a.invoker(0);
            GroupInvoker receiver = b.invoker(0);

            run(WARM_UP, a, write, batch, done, imms, sender, receiver);
            long before = meter.bytes();
            run(MEASURED, a, write, batch, done, imms, sender, receiver);
            long allocated = meter.bytes() - before;

            assertEquals(2L * (WARM_UP + MEASURED), done.completed());
            assertEquals(0, done.failed());
            assertEquals(2L * (WARM_UP + MEASURED), imms.arrived());
            assertTrue(allocated < ALLOWED_BYTES, allocated + " bytes allocated by " + 2 * MEASURED + " writes");
        }
    }

    /** {@code count} single writes one at a time, then {@code count} more in batches. */
    private static void run(int count, TransferEngine a, SingleWrite write, TransferRequest[] batch,
                            TransferCounter done, ImmCounter imms, GroupInvoker sender, GroupInvoker receiver) {
        for (int i = 0; i < count; i++) {
            a.submit(write, done);
            done.await(1, WAIT, sender);
            imms.await(1, WAIT, receiver);
        }
        for (int i = 0; i < count; i += BATCH) {
            a.submit(batch, 0, BATCH, done);
            done.await(BATCH, WAIT, sender);
            imms.await(BATCH, WAIT, receiver);
        }
    }
}
