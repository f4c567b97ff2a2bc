package dev.transferengine.bench.jmh;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One single write on the loopback provider, submit to completion, against a plain
 * {@link MemorySegment#copy} of the same bytes between the same two segments in the same run: the
 * loopback provider's work is that copy, so {@code copy / write} is the share of time the engine adds
 * nothing to (target: >= 0.8 at >= 1 MiB).
 *
 * <ul>
 *   <li>{@link #write}: submit a pre-built request against a {@link TransferCounter}, await it. Local
 *       completion: the sender's worker took the request, the copy ran, the completion was counted.</li>
 *   <li>{@link #writeImm}: the same write carrying an imm; await the receiver's {@link ImmCounter} (the
 *       receiver's worker polled and counted it), then the local completion.</li>
 *   <li>{@link #writeBatch}: 64 writes submitted back to back, then awaited together; per write. Shows the
 *       submit path's cost without a thread wake-up per write.</li>
 *   <li>{@link #writeBatchSubmit}: the same 64 writes in one batch submit (one queue claim, one wake-up).</li>
 *   <li>{@link #copy}: the baseline.</li>
 * </ul>
 * {@code mode=invoker} builds both engines in {@link ThreadingMode#INVOKER}: the benchmark thread drives the
 * sender's group while it awaits the completions, and the receiver's while it awaits imms (no thread hop at all).
 * Run with {@code -prof gc}: {@code gc.alloc.rate.norm} counts every thread's allocation (JMH 1.37 on
 * JDK 21+ reads the JVM-wide total), so worker and callback threads are included; the target is 0 B/op.
 */
@State(Scope.Thread)
public class LoopbackWriteBenchmark extends AbstractEngineBenchmark {
    static final int BATCH = 64;
    private static final int IMM = 0x5EED;

    @Param({"64", "1048576"})
    int size;

    /** Worker idle strategy: backoff (the default), spin, yield. */
    @Param({"backoff"})
    String idle;

    @Param({"1"})
    int nics;

    /** Threading mode of both engines: dedicated (worker threads) or invoker (this thread drives them). */
    @Param({"dedicated", "invoker"})
    String mode;

    private Arena arena;
    private TransferEngine sender;
    private TransferEngine receiver;
    private MemorySegment src;
    private MemorySegment dst;
    private MemoryRegion srcRegion;
    private MemoryRegion dstRegion;
    private SingleWrite plainWrite;
    private SingleWrite immWrite;
    private TransferCounter completions;
    private ImmCounter arrivals;
    private long immsPerWrite;
    private TransferRequest[] batch;
    private GroupInvoker senderInvoker;
    private GroupInvoker receiverInvoker;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        ThreadingMode threading = ThreadingMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT));
        receiver = engine("jmh-receiver", "loopback", nics, idle, threading);
        sender = engine("jmh-sender", "loopback", nics, idle, threading);
        src = arena.allocate(size, 4096);
        dst = arena.allocate(size, 4096);
        src.fill((byte) 0x5A);
        srcRegion = sender.register(src, Access.LOCAL);
        dstRegion = receiver.register(dst, Access.REMOTE_WRITE);
        RemoteRegion descriptor = RemoteRegion.fromHex(dstRegion.descriptor().toHex());
        plainWrite = SingleWrite.of(srcRegion, 0, size, descriptor, 0);
        immWrite = SingleWrite.withImm(srcRegion, 0, size, descriptor, 0, IMM);
        immsPerWrite = ImmAccounting.immsProduced(immWrite, sender.nicCount(0));
        completions = sender.newTransferCounter();
        arrivals = receiver.immCounter(IMM);
        batch = new TransferRequest[BATCH];
        java.util.Arrays.fill(batch, plainWrite);
        if (threading == ThreadingMode.INVOKER) {
            senderInvoker = sender.invoker(0);
            receiverInvoker = receiver.invoker(0);
        }
    }

    private void awaitCompletions(long n) {
        if (senderInvoker != null) {
            completions.await(n, AWAIT_TIMEOUT, senderInvoker);
        } else {
            completions.await(n, AWAIT_TIMEOUT);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (dst.mismatch(src) >= 0) {
                throw new IllegalStateException("the writes did not land: destination differs from source");
            }
            completions.throwIfFailed();
        } finally {
            srcRegion.close();
            dstRegion.close();
            sender.close();
            receiver.close();
            arena.close();
        }
    }

    @Benchmark
    public void write() {
        sender.submit(plainWrite, completions);
        awaitCompletions(1);
    }

    @Benchmark
    public void writeImm() {
        sender.submit(immWrite, completions);
        if (receiverInvoker != null) {
            completions.await(1, AWAIT_TIMEOUT, senderInvoker); // the sender's cycle posts the write
            arrivals.await(immsPerWrite, AWAIT_TIMEOUT, receiverInvoker);
        } else {
            arrivals.await(immsPerWrite, AWAIT_TIMEOUT);
            completions.await(1, AWAIT_TIMEOUT);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void writeBatch() {
        for (int i = 0; i < BATCH; i++) {
            sender.submit(plainWrite, completions);
        }
        awaitCompletions(BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void writeBatchSubmit() {
        sender.submit(batch, 0, BATCH, completions);
        awaitCompletions(BATCH);
    }

    @Benchmark
    public void copy() {
        MemorySegment.copy(src, 0, dst, 0, size);
    }
}
