package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.Counter;
import dev.transferengine.api.EngineCounters;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferException;
import dev.transferengine.testing.NativeMemoryProbe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The behaviour every provider must show, written once and run against each of them (loopback, libfabric
 * tcp/shm, verbs). A provider's module subclasses this class, picks the provider and its options in
 * {@link #newEngineBuilder(int)}, and may narrow {@link #nicCounts()}; nothing else changes.
 *
 * <p>The tests are grouped by concern in {@code @Nested} sections ({@link DataMovement}, {@link Imms},
 * {@link BadInput}: one {@link ConformanceSection} each, whose provider hooks are this suite's); this class's own
 * tests cover robustness and lifecycle: throwing user code, close with transfers in flight, and leaks.
 *
 * <p>Every test builds its own engines A (sender) and B (receiver), sometimes C, in this process, with
 * seeded random memory contents (the seed is in every failure message). Assertions are about bytes
 * (the whole allocation around each registered body is compared, so stray writes are caught), imm counts
 * (against {@link dev.transferengine.api.ImmAccounting}), callback invocation counts and typed errors. Delivery is unordered:
 * a test never assumes an order between writes, and learns that data landed only by counting imms.
 * Every wait has a deadline ({@link Waits#DEADLINE}); nothing sleeps to synchronise.
 */
public abstract class TransferConformanceSuite extends ConformanceBase {
    /** Part 1: every request type moves the right bytes to the right place. */
    @Nested
    class DataMovement extends DataMovementConformance {
        @Override
        protected ConformanceBase suite() {
            return TransferConformanceSuite.this;
        }
    }

    /** Part 2: imm counts, expectations and every completion form. */
    @Nested
    class Imms extends ImmConformance {
        @Override
        protected ConformanceBase suite() {
            return TransferConformanceSuite.this;
        }
    }

    /** Part 3: bad input is refused, typed, with memory untouched. */
    @Nested
    class BadInput extends BadInputConformance {
        @Override
        protected ConformanceBase suite() {
            return TransferConformanceSuite.this;
        }
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void throwingUserCodeNeverStopsTheEngine(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        AtomicInteger thrown = new AtomicInteger();
        TransferCallback throwing = TransferCallback.of(() -> {
            thrown.incrementAndGet();
            throw new RuntimeException("test: onDone throws");
        }, e -> thrown.addAndGet(1000));
        int early = nextImm();
        ImmCounter earlyImms = f.b.immCounter(early);
        dstBuf.expectCopy(srcBuf, 0, 0, 1000);
        for (int i = 0; i < 10; i++) {
            f.a.submit(SingleWrite.withImm(src, 0, 1000, dst, 0, early), throwing);
        }
        Waits.until(() -> thrown.get() >= 10, () -> "10 throwing callbacks (have " + thrown.get() + ")");
        assertEquals(10, thrown.get(), "each throwing callback runs once, and only onDone");
        earlyImms.await(10L * nics, Waits.DEADLINE);

        // imm handlers, expectations and receive handlers that throw
        int imm = nextImm();
        f.b.onImm(v -> {
            throw new IllegalStateException("test: imm handler throws");
        });
        ImmRecorder events = new ImmRecorder();
        f.b.onImm(events);
        int expected = nextImm();
        f.b.expectImms(expected, 1, () -> {
            throw new RuntimeException("test: expectation callback throws");
        });
        AtomicInteger messages = new AtomicInteger();
        f.b.postReceives(256, 2, m -> {
            messages.incrementAndGet();
            throw new RuntimeException("test: receive handler throws");
        });
        Waits.get(f.a.submit(ImmWrite.of(dst, expected)), "imm for a throwing expectation");
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm for a throwing handler");
            Waits.get(f.a.send(f.b.mainAddress(), src, 0, 100), "send to a throwing receive handler");
            int sent = i + 1;
            Waits.until(() -> messages.get() >= sent, () -> sent + " messages despite a throwing handler");
        }
        events.awaitAtLeast(imm, 3);

        // and the data path still works
        dstBuf.expectCopy(srcBuf, 5, 2000, 20_000);
        int last = nextImm();
        new Delivery("after throwing callbacks", last)
                .submit(SingleWrite.withImm(src, 5, 20_000, dst, 2000, last))
                .expectImms(f.b, nics)
                .check(dstBuf)
                .run(f.a);
        assertEquals(10, thrown.get(), "a throwing callback was called again");
    }

    /**
     * The counters (issue 12) add up to what was submitted: transfers and bytes per group, writes per NIC
     * (a sharded write is one write per NIC, a paged write one per page), completions, sends, receives and imms
     * at the receiver, regions; nothing failed, nothing left in flight.
     */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void countersAddUpToWhatWasSubmitted(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(512 * KIB);
        GuardedBuffer dstBuf = f.buffer(512 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        assertEquals(1, f.a.counters().total(Counter.OPEN_REGIONS));
        int imm = nextImm();
        ImmCounter arrived = f.b.immCounter(imm);
        AtomicInteger received = new AtomicInteger();
        f.b.postReceives(256, 2, m -> received.incrementAndGet());

        int singles = 5;
        long shardFilling = 8 * KIB * nics; // every shard full: no empty shard re-writes a byte
        long bytes = 0;
        TransferCounter done = f.a.newTransferCounter();
        for (int i = 0; i < singles; i++) {
            long length = shardFilling * (i + 1);
            f.a.submit(SingleWrite.withImm(src, 0, length, dst, 0, imm), done);
            bytes += length;
        }
        int pages = 6;
        f.a.submit(new PagedWrite(4 * KIB, src, new int[] {0, 1, 2, 3, 4, 5}, 4 * KIB, 0, dst,
                new int[] {10, 11, 12, 13, 14, 15}, 4 * KIB, 0, java.util.OptionalInt.of(imm)), done);
        bytes += pages * 4 * KIB;
        done.await(singles + 1, Waits.DEADLINE);
        assertEquals(0, done.failed(), () -> "writes failed: " + done.firstError());
        Waits.get(f.a.send(f.b.mainAddress(), src, 0, 100), "a send");
        bytes += 100;
        Waits.until(() -> received.get() == 1, () -> "the send's message");
        long imms = (long) singles * nics + pages;
        arrived.await(imms, Waits.DEADLINE);

        EngineCounters a = f.a.counters();
        long transfers = singles + 2;
        assertEquals(transfers, a.total(Counter.TRANSFERS_SUBMITTED));
        assertEquals(transfers, a.total(Counter.TRANSFERS_COMPLETED));
        assertEquals(0, a.total(Counter.TRANSFERS_FAILED));
        assertEquals(0, a.total(Counter.TRANSFER_TIMEOUTS));
        assertEquals(0, a.total(Counter.TRANSFERS_IN_FLIGHT));
        assertEquals(bytes, a.total(Counter.BYTES_SUBMITTED));
        long writes = (long) singles * nics + pages;
        assertEquals(writes, a.total(Counter.WRITES_POSTED));
        assertEquals(bytes - 100, a.total(Counter.BYTES_POSTED));
        assertEquals(1, a.total(Counter.SENDS_POSTED));
        assertEquals(writes + 1, a.total(Counter.WRITES_COMPLETED), "every write and the send completed");
        assertEquals(0, a.total(Counter.WRITE_ERRORS));
        for (int n = 0; n < nics; n++) {
            assertTrue(a.get(0, n, Counter.WRITES_POSTED) >= singles, "NIC " + n + " carried a shard of each write");
        }
        for (ErrorCategory c : ErrorCategory.values()) {
            assertEquals(0, a.totalErrors(c), c.name());
        }
        EngineCounters b = f.b.counters();
        assertEquals(imms, b.total(Counter.IMMS_RECEIVED));
        assertEquals(1, b.total(Counter.RECEIVES_COMPLETED));
        src.close();
        assertEquals(0, a.total(Counter.OPEN_REGIONS));
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void concurrentSubmittersShareTheEngineSafely(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int threads = 4;
        int perThread = 500;
        int imm = nextImm();
        ImmCounter arrived = f.b.immCounter(imm);
        TransferCounter counter = f.a.newTransferCounter();
        List<FutureTaskThread> submitters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            // each thread re-submits its own request instance, to its own destination range
            SingleWrite w = SingleWrite.withImm(src, 1000L * t, 3000 + t, dst, 8192L * t, imm);
            dstBuf.expectCopy(srcBuf, 1000L * t, 8192L * t, 3000 + t);
            submitters.add(FutureTaskThread.start(() -> {
                for (int i = 0; i < perThread; i++) {
                    f.a.submit(w, counter);
                }
            }));
        }
        submitters.forEach(s -> s.join("a concurrent submitter"));
        counter.await((long) threads * perThread, Waits.DEADLINE);
        assertEquals(0, counter.failed(), () -> "concurrent submissions failed: " + counter.firstError());
        long expected = (long) threads * perThread * nics;
        arrived.await(expected, Waits.DEADLINE);
        assertEquals(expected, arrived.arrived());
        dstBuf.assertMatches("concurrent submitters [seed " + f.seed + "]");
    }

    /** Callbacks and future stages run on the callback executor and may submit more work from there. */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void completionsMaySubmitFollowUpTransfers(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(16 * KIB);
        GuardedBuffer dstBuf = f.buffer(16 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter arrived = f.b.immCounter(imm);
        SingleWrite write = SingleWrite.withImm(src, 0, 4096, dst, 0, imm);
        dstBuf.expectCopy(srcBuf, 0, 0, 4096);

        int links = 50;
        CompletableFuture<Void> chainEnd = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(links);
        TransferCallback chain = new TransferCallback() {
            @Override
            public void onDone() {
                try {
                    if (remaining.decrementAndGet() > 0) {
                        f.a.submit(write, this);
                    } else {
                        chainEnd.complete(null);
                    }
                } catch (RuntimeException e) {
                    chainEnd.completeExceptionally(e);
                }
            }

            @Override
            public void onError(TransferException error) {
                chainEnd.completeExceptionally(error);
            }
        };
        f.a.submit(write, chain);
        Waits.get(chainEnd, "a chain of " + links + " transfers submitted from callbacks");

        CompletableFuture<Void> stages = f.a.submit(write);
        for (int i = 1; i < 10; i++) {
            stages = stages.thenCompose(v -> f.a.submit(write));
        }
        Waits.get(stages, "10 transfers chained with thenCompose");

        long expected = (links + 10L) * nics;
        arrived.await(expected, Waits.DEADLINE);
        assertEquals(expected, arrived.arrived());
        dstBuf.assertMatches("chained transfers");
    }

    private static final int IN_FLIGHT = 10_000;

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void closeWithTenThousandWritesInFlightCompletesEachExactlyOnce(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(640 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        RecordingCallback[] callbacks = new RecordingCallback[IN_FLIGHT];
        for (int i = 0; i < IN_FLIGHT; i++) {
            callbacks[i] = new RecordingCallback();
            f.a.submit(SingleWrite.of(src, (i * 64L) % srcBuf.length(), 64, dst, i * 64L), callbacks[i]);
        }
        f.a.close();
        int succeeded = 0;
        for (int i = 0; i < IN_FLIGHT; i++) {
            callbacks[i].awaitOutcome("write " + i + " of " + IN_FLIGHT + " after close");
        }
        f.b.close(); // nothing more can complete a callback after both engines closed
        for (int i = 0; i < IN_FLIGHT; i++) {
            RecordingCallback cb = callbacks[i];
            assertEquals(1, cb.invocations(), "write " + i + ": callback invocations");
            if (cb.succeeded()) {
                succeeded++;
            } else {
                assertEquals(ErrorCategory.CLOSED, cb.error().category(), "write " + i + ": " + cb.error());
                assertTrue(cb.error() instanceof ClosedException, "write " + i + ": " + cb.error().getClass());
            }
        }
        assertRejected(f.a, SingleWrite.of(src, 0, 64, dst, 0), ErrorCategory.CLOSED, "submit after close");
        System.out.printf("%s[%d NICs]: %d of %d in-flight writes succeeded before close%n", testName, nics,
                succeeded, IN_FLIGHT);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void closeWithTenThousandCountedWritesInFlight(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        TransferCounter counter = f.a.newTransferCounter();
        SingleWrite write = SingleWrite.withImm(src, 0, 4096, dst, 0, nextImm());
        for (int i = 0; i < IN_FLIGHT; i++) {
            f.a.submit(write, counter);
        }
        f.a.close();
        counter.await(IN_FLIGHT, Waits.DEADLINE);
        f.b.close();
        assertEquals(IN_FLIGHT, counter.completed(), "every request completes the counter exactly once");
        if (counter.failed() > 0) {
            assertEquals(ErrorCategory.CLOSED, counter.firstError().category(), counter.firstError()::toString);
        }
        assertCategory(ErrorCategory.CLOSED, () -> f.a.submit(write, counter), "counted submit after close");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void submissionsRacingWithCloseEitherThrowClosedOrCompleteOnce(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        SingleWrite write = SingleWrite.of(src, 0, 256, dst, 0);
        ConcurrentLinkedQueue<RecordingCallback> accepted = new ConcurrentLinkedQueue<>();
        AtomicLong submitted = new AtomicLong();
        AtomicInteger wrongException = new AtomicInteger();
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            submitters.add(Thread.ofPlatform().name(f.name() + "-submitter-" + t).start(() -> {
                while (true) {
                    RecordingCallback cb = new RecordingCallback();
                    try {
                        f.a.submit(write, cb);
                    } catch (ClosedException closed) {
                        return;
                    } catch (RuntimeException other) {
                        wrongException.incrementAndGet();
                        return;
                    }
                    accepted.add(cb);
                    submitted.incrementAndGet();
                }
            }));
        }
        Waits.until(() -> submitted.get() >= 2000, () -> "2000 submissions before close");
        f.a.close();
        submitters.forEach(t -> Waits.join(t, "submitter to see ClosedException"));
        assertEquals(0, wrongException.get(), "submissions racing with close threw something other than ClosedException");
        for (RecordingCallback cb : accepted) {
            cb.awaitOutcome("an accepted submission");
        }
        f.b.close();
        for (RecordingCallback cb : accepted) {
            assertEquals(1, cb.invocations());
            if (!cb.succeeded()) {
                assertEquals(ErrorCategory.CLOSED, cb.error().category(), cb.error()::toString);
            }
        }
    }

    /**
     * Engines that are built, used (registrations, receives with engine-owned buffers, thousands of writes,
     * sends) and closed again leave no native memory, registrations or threads behind. Native memory is
     * measured with {@link NativeMemoryProbe} after every cycle. The JVM's own mallocs are noise of up to
     * a few MiB per cycle (JIT arena chunks, which HotSpot returns to the C heap only every few seconds);
     * so each cycle posts 32 MiB of engine-owned receive buffers, and the median growth per cycle must stay
     * below a quarter of that. This catches leaked receive buffers or registrations of test memory, not a
     * few leaked kilobytes (see docs/testing.md).
     */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void closedEnginesLeaveNoNativeMemoryRegistrationsOrThreads(int nics) {
        Assumptions.assumeTrue(NativeMemoryProbe.available(), "needs glibc mallinfo2");
        int receiveBytes = MIB;
        int receiveBuffers = 32;
        long perCycle = (long) receiveBytes * receiveBuffers;
        assertProbeSeesArenaMemory();
        for (int i = 0; i < 3; i++) {
            useAndClose(nics, receiveBytes, receiveBuffers);
        }
        int cycles = 8;
        long[] growth = new long[cycles];
        long previous = lowestInUse();
        long first = previous;
        for (int i = 0; i < cycles; i++) {
            useAndClose(nics, receiveBytes, receiveBuffers);
            long now = lowestInUse();
            growth[i] = now - previous;
            previous = now;
        }
        long[] sorted = growth.clone();
        Arrays.sort(sorted);
        long median = sorted[cycles / 2];
        System.out.printf("%s[%d NICs]: C heap in use %d -> %d bytes over %d engine cycles; per cycle %s%n",
                testName, nics, first, previous, cycles, Arrays.toString(growth));
        assertTrue(median < perCycle / 4, "the C heap grew by a median " + median + " bytes per build/use/close "
                + "cycle " + Arrays.toString(growth) + ": native memory is leaking (see docs/testing.md)");
    }

    /**
     * The probe must see a large Arena allocation, or the leak test proves nothing. 16 MiB, and three
     * quarters of it, because concurrent JVM frees can lower a reading by a few MiB.
     */
    /**
     * The probe must see a 16 MiB arena allocation, or the leak check below proves nothing. Up to five tries: other
     * threads of the JVM (compiler, engines of earlier tests winding down) free C heap concurrently, and when this
     * runs early in the JVM one sample saw only 10.8 of the 16 MiB.
     */
    private static void assertProbeSeesArenaMemory() {
        long bytes = 16L * MIB;
        String seen = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            long before = lowestInUse();
            try (Arena arena = Arena.ofConfined()) {
                arena.allocate(bytes, 4096);
                long during = lowestInUse();
                if (during - before >= bytes * 3 / 4) {
                    return;
                }
                seen += " " + before + " -> " + during;
            }
        }
        org.junit.jupiter.api.Assertions.fail("mallinfo2 did not see a " + bytes + "-byte Arena allocation in five"
                + " tries:" + seen);
    }

    private void useAndClose(int nics, int receiveBytes, int receiveBuffers) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        MemoryRegion target = f.register(f.b, dstBuf, Access.REMOTE_WRITE);
        ReceiveSet receives = f.b.postReceives(receiveBytes, receiveBuffers, m -> { });
        TransferCounter counter = f.a.newTransferCounter();
        for (int i = 0; i < 2000; i++) {
            f.a.submit(SingleWrite.of(src, 0, 512, target.descriptor(), (i * 512L) % dstBuf.length()), counter);
        }
        for (int i = 0; i < 4; i++) {
            Waits.get(f.a.send(f.b.mainAddress(), src, 0, 1024), "send");
        }
        counter.await(2000, Waits.DEADLINE);
        counter.throwIfFailed();
        Waits.until(() -> receives.received() == 4, () -> "4 messages");
        f.close();
        fixtures.remove(f);
        assertFalse(src.isOpen(), "engine close deregisters the sender's regions");
        assertFalse(target.isOpen(), "engine close deregisters the receiver's regions");
        Waits.until(() -> liveThreadsNamed(f.name()).isEmpty(),
                () -> "engine threads to end after close: " + liveThreadsNamed(f.name()));
    }

    private static List<String> liveThreadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.contains(prefix)).toList();
    }

    /** The lowest of a few readings: JIT compilations in flight only ever raise a reading. */
    private static long lowestInUse() {
        long lowest = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            OptionalLong v = NativeMemoryProbe.inUseBytes();
            lowest = Math.min(lowest, v.orElseThrow());
            Thread.yield();
        }
        return lowest;
    }
}
