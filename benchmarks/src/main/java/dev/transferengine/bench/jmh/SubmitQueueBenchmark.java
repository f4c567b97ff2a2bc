package dev.transferengine.bench.jmh;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The cross-thread submission queue: {@code producers} threads submit to one engine, whose single worker
 * drains the multi-producer queue, posts and completes. Each producer submits a batch of {@link #BATCH} 64-byte
 * writes against its own {@link TransferCounter}, then awaits them; the score is writes per second summed over
 * the producers (JMH adds up the threads' throughputs). Loopback provider, so the worker's post is a 64-byte
 * copy and the queue, the worker loop and the completion path are what is measured. With the worker and
 * {@code producers} threads on a 2-core box, 2 and 4 producers share cores with the worker: read those rows as
 * "does the rate collapse", not as scaling.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SubmitQueueBenchmark extends AbstractEngineBenchmark {
    static final int BATCH = 64;
    private static final int SIZE = 64;

    /** Worker idle strategy of both engines. */
    @Param({"backoff"})
    String idle;

    private Arena arena;
    private TransferEngine sender;
    private TransferEngine receiver;
    private MemoryRegion srcRegion;
    private MemoryRegion dstRegion;
    private SingleWrite write;
    private TransferRequest[] batch;

    /** Each producer's own counter. */
    @State(Scope.Thread)
    public static class Producer {
        final TransferCounter done = new TransferCounter();

        @TearDown(Level.Trial)
        public void check() {
            done.throwIfFailed();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        receiver = engine("jmh-queue-receiver", "loopback", 1, idle);
        sender = engine("jmh-queue-sender", "loopback", 1, idle);
        MemorySegment src = arena.allocate(SIZE, 64);
        MemorySegment dst = arena.allocate(SIZE, 64);
        srcRegion = sender.register(src, Access.LOCAL);
        dstRegion = receiver.register(dst, Access.REMOTE_WRITE);
        RemoteRegion descriptor = RemoteRegion.fromHex(dstRegion.descriptor().toHex());
        write = SingleWrite.of(srcRegion, 0, SIZE, descriptor, 0);
        batch = new TransferRequest[BATCH];
        java.util.Arrays.fill(batch, write);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        srcRegion.close();
        dstRegion.close();
        sender.close();
        receiver.close();
        arena.close();
    }

    private void batch(Producer p) {
        for (int i = 0; i < BATCH; i++) {
            sender.submit(write, p.done);
        }
        p.done.await(BATCH, AWAIT_TIMEOUT);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void producers1(Producer p) {
        batch(p);
    }

    /** One producer handing its 64 writes over in one batch submit: one queue claim and one wake-up. */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void producers1BatchSubmit(Producer p) {
        sender.submit(batch, 0, BATCH, p.done);
        p.done.await(BATCH, AWAIT_TIMEOUT);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BATCH)
    public void producers2(Producer p) {
        batch(p);
    }

    @Benchmark
    @Threads(4)
    @OperationsPerInvocation(BATCH)
    public void producers4(Producer p) {
        batch(p);
    }
}
