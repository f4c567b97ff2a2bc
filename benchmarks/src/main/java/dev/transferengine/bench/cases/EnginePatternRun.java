package dev.transferengine.bench.cases;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cli.ByteSize;
import dev.transferengine.bench.cli.EngineOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The C baseline's write pattern ({@code benchmarks/native/fi_write_bench.c}) through the Java engine, so
 * that {@code compare} puts the same measurement side by side:
 * <ul>
 *   <li>a writer and a target engine in this process, one NIC each, built fresh for every measurement (the C
 *       baseline opens its endpoints fresh in every process);</li>
 *   <li>one write size at a time: every write goes from offset 0 of the writer's region to offset 0 of the
 *       target's region and carries the same imm;</li>
 *   <li>a window: as long as fewer than {@code window} writes are in flight (submitted, not yet completed
 *       locally), submit more; otherwise wait for the next local completion;</li>
 *   <li>a run of {@code count} writes ends when all of them completed locally and the target counted all
 *       {@code count} imms; the warm-up is such a run, untimed, just before the timed one.</li>
 * </ul>
 * The time runs from the first submit to the last imm ({@link WriteWindow}). Used by one thread; the timed loop
 * allocates nothing. With {@link ThreadingMode#INVOKER} neither engine has a worker thread: this thread submits and
 * drives the writer's group while it waits (the C writer thread posts and polls its CQ), and an
 * {@link InvokerThread} drives the target's (the C target thread).
 */
public final class EnginePatternRun {
    /** The imm every write carries (the C baseline uses 7; the value does not matter). */
    static final int IMM = 7;

    private final EngineOptions engine;
    private final boolean withImm;
    private final ThreadingMode threading;

    public EnginePatternRun(EngineOptions engine) {
        this(engine, true, ThreadingMode.DEDICATED);
    }

    /**
     * @param withImm   false: writes without imm, a run ends at the last local completion ({@code compare --no-imm})
     * @param threading how both engines run their duty cycles
     */
    public EnginePatternRun(EngineOptions engine, boolean withImm, ThreadingMode threading) {
        this.engine = engine;
        this.withImm = withImm;
        this.threading = threading;
    }

    /** Builds the engines, runs {@code warmup} then {@code iterations} writes of {@code size}, closes them. */
    public RateSample measure(long size, int warmup, int iterations, int window) {
        if (size < 1 || iterations < 1 || warmup < 0 || window < 1) {
            throw new IllegalArgumentException("size, iterations and window must be >= 1 and warm-up >= 0");
        }
        Duration timeout = engine.timeout();
        try (TransferEngine target = engine.builder("cmp-target").threadingMode(threading).build();
             TransferEngine writer = engine.builder("cmp-writer").threadingMode(threading).build();
             Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(size, 4096);
            MemorySegment dst = arena.allocate(size, 4096);
            src.fill((byte) 0x5a);
            try (MemoryRegion srcRegion = writer.register(src, Access.LOCAL);
                 MemoryRegion dstRegion = target.register(dst, Access.REMOTE_WRITE)) {
                RemoteRegion destination = RemoteRegion.fromHex(dstRegion.descriptor().toHex());
                SingleWrite write = withImm ? SingleWrite.withImm(srcRegion, 0, size, destination, 0, IMM)
                        : SingleWrite.of(srcRegion, 0, size, destination, 0);
                ImmCounter imms = withImm ? target.immCounter(IMM) : null;
                boolean invoker = threading == ThreadingMode.INVOKER;
                WriteWindow writes = new WriteWindow(writer, write, imms, window, timeout,
                        invoker ? writer.invoker(0) : null);
                long elapsed;
                try (InvokerThread targetThread = invoker ? InvokerThread.start(target.invoker(0), "cmp-target-invoker")
                        : null) {
                    writes.run(warmup);
                    long start = System.nanoTime();
                    writes.run(iterations);
                    elapsed = System.nanoTime() - start;
                }
                // without imm, a local completion may come before the target copied the bytes (shm inline/inject)
                long landBy = System.nanoTime() + timeout.toNanos();
                while (!withImm && dst.mismatch(src) >= 0 && System.nanoTime() - landBy < 0) {
                    Thread.onSpinWait();
                }
                if (dst.mismatch(src) >= 0) {
                    throw new BenchFailure("the writes of " + ByteSize.format(size) + " did not land: destination differs");
                }
                return new RateSample(size, iterations, Math.max(elapsed, 1) / 1e9);
            }
        }
    }
}
