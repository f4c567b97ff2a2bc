package dev.transferengine.bench.jmh;

import dev.transferengine.api.Access;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.bench.cli.IdleChoice;
import dev.transferengine.efa.LibfabricOptions;
import dev.transferengine.efa.LibfabricProvider;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
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
import java.util.Map;

/**
 * The submit path over libfabric shm, per write, in batches of {@link #BATCH} writes with an imm:
 *
 * <ul>
 *   <li>{@link #spiPostPoll}: the provider alone, on this thread: {@code ProviderDomain.postWrite} for each write
 *       (polling both domains when it answers RETRY), then poll the writer and the target domains until every
 *       completion and every imm came. No engine, no other thread: the floor that FFM and libfabric set, the
 *       same work the C baseline does.</li>
 *   <li>{@link #engineBatch}: the same writes through two engines ({@code submit} against a
 *       {@link TransferCounter}, then await it and the target's {@link ImmCounter}): adds the queue, the
 *       workers, the request planning and the completion path. {@code engineBatch - spiPostPoll} is what the
 *       engine costs per write.</li>
 * </ul>
 * {@code -prof gc}: both should allocate nothing per write. Run through {@code ./te jmh} (IPATH_NO_BACKTRACE).
 */
@State(Scope.Thread)
public class ShmSubmitBenchmark extends AbstractEngineBenchmark {
    static final int BATCH = 64;
    private static final int IMM = 0x5117;

    @Param({"64", "65536"})
    int size;

    @Param({"backoff"})
    String idle;

    private Arena arena;
    // provider level
    private ProviderFabric fabric;
    private ProviderDomain writer;
    private ProviderDomain target;
    private RegisteredMemory spiSrc;
    private RegisteredMemory spiDst;
    private long peer;
    private final CountingSink writerSink = new CountingSink();
    private final CountingSink targetSink = new CountingSink();
    // engine level
    private TransferEngine sender;
    private TransferEngine receiver;
    private MemoryRegion srcRegion;
    private MemoryRegion dstRegion;
    private SingleWrite write;
    private TransferCounter done;
    private ImmCounter arrivals;

    /** Counts what a domain reports; fails on errors. Allocation-free. */
    static final class CountingSink implements CompletionSink {
        long completions;
        long imms;
        TransferException error;

        @Override
        public void onComplete(long context) {
            completions++;
        }

        @Override
        public void onReceive(long context, long lengthBytes) {
        }

        @Override
        public void onError(long context, TransferException e) {
            completions++;
            if (error == null) {
                error = e;
            }
        }

        @Override
        public void onImm(int imm) {
            imms++;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment src = arena.allocate(size, 4096);
        MemorySegment dst = arena.allocate(size, 4096);
        src.fill((byte) 0x5A);

        fabric = new LibfabricProvider().open(Map.of(LibfabricOptions.PROVIDER, "shm"), 2);
        writer = fabric.openDomain(fabric.domains().get(0));
        target = fabric.openDomain(fabric.domains().get(0));
        spiSrc = writer.register(src, false);
        spiDst = target.register(dst, true);
        peer = writer.resolvePeer(target.address());

        receiver = shmEngine("jmh-shm-receiver");
        sender = shmEngine("jmh-shm-sender");
        srcRegion = sender.register(src, Access.LOCAL);
        dstRegion = receiver.register(dst, Access.REMOTE_WRITE);
        write = SingleWrite.withImm(srcRegion, 0, size, RemoteRegion.fromHex(dstRegion.descriptor().toHex()), 0, IMM);
        done = sender.newTransferCounter();
        arrivals = receiver.immCounter(IMM);
    }

    private TransferEngine shmEngine(String name) {
        java.util.function.Supplier<IdleStrategy> strategy = IdleChoice.named(idle).factory();
        return TransferEngine.builder().name(name).provider(LibfabricProvider.NAME)
                .providerOption(LibfabricOptions.PROVIDER, "shm").groups(1, 1).idleStrategy(strategy).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            done.throwIfFailed();
            if (writerSink.error != null) {
                throw writerSink.error;
            }
        } finally {
            srcRegion.close();
            dstRegion.close();
            sender.close();
            receiver.close();
            writer.deregister(spiSrc);
            target.deregister(spiDst);
            writer.close();
            target.close();
            fabric.close();
            arena.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void spiPostPoll() {
        long completionsWanted = writerSink.completions + BATCH;
        long immsWanted = targetSink.imms + BATCH;
        for (int i = 0; i < BATCH; i++) {
            while (writer.postWrite(peer, spiSrc, spiSrc.address(), size, spiDst.remoteBase(), spiDst.remoteKey(),
                    true, IMM, i) != ProviderDomain.POSTED) {
                writer.poll(writerSink, 64);
                target.poll(targetSink, 64);
            }
        }
        long deadline = System.nanoTime() + AWAIT_TIMEOUT.toNanos();
        while (writerSink.completions < completionsWanted || targetSink.imms < immsWanted) {
            writer.poll(writerSink, 64);
            target.poll(targetSink, 64);
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("shm writes did not complete within " + AWAIT_TIMEOUT);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void engineBatch() {
        for (int i = 0; i < BATCH; i++) {
            sender.submit(write, done);
        }
        done.await(BATCH, AWAIT_TIMEOUT);
        arrivals.await(BATCH, AWAIT_TIMEOUT);
    }
}
