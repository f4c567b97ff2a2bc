package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.Device;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmExpectation;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.Subscription;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The behaviour every provider must show, written once and run against each of them (loopback, libfabric
 * tcp/shm, verbs). A provider's module subclasses this class, picks the provider and its options in
 * {@link #newEngineBuilder(int)}, and may narrow {@link #nicCounts()}; nothing else changes.
 *
 * <p>Every test builds its own engines A (sender) and B (receiver), sometimes C, in this process, with
 * seeded random memory contents (the seed is in every failure message). Assertions are about bytes
 * (the whole allocation around each registered body is compared, so stray writes are caught), imm counts
 * (against {@link ImmAccounting}), callback invocation counts and typed errors. Delivery is unordered:
 * a test never assumes an order between writes, and learns that data landed only by counting imms.
 * Every wait has a deadline ({@link Waits#DEADLINE}); nothing sleeps to synchronise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TransferConformanceSuite {
    private static final int MIB = 1 << 20;
    private static final int KIB = 1 << 10;
    /** Imm values unique across the whole test JVM, so no test can see another's imms. */
    private static final AtomicInteger NEXT_IMM = new AtomicInteger(0x7E00_0000);

    private final List<ConformanceFixture> fixtures = new ArrayList<>();
    private String testName = "test";

    /**
     * A builder for one engine with one group of {@code nicsPerGroup} NICs: the provider, its options and
     * the group. Called once per engine; the suite adds the name and builds it.
     */
    protected abstract TransferEngine.Builder newEngineBuilder(int nicsPerGroup);

    /** The NICs-per-group values to run every test with. */
    protected int[] nicCounts() {
        return new int[] {1, 2, 4};
    }

    // ---------------------------------------------------------------------------------------------
    // Parameter sources and fixtures
    // ---------------------------------------------------------------------------------------------

    protected final IntStream nics() {
        return IntStream.of(nicCounts());
    }

    /** Every ordered pair of different NIC counts: the sender and receiver disagree. */
    protected final Stream<Arguments> differentNicCounts() {
        int[] counts = nicCounts();
        List<Arguments> pairs = new ArrayList<>();
        for (int x : counts) {
            for (int y : counts) {
                if (x != y) {
                    pairs.add(Arguments.of(x, y));
                }
            }
        }
        return pairs.stream();
    }

    @BeforeEach
    final void rememberTestName(TestInfo info) {
        testName = info.getTestMethod().map(m -> m.getName()).orElse("test");
    }

    @AfterEach
    final void closeFixtures() {
        RuntimeException first = null;
        for (ConformanceFixture f : fixtures) {
            try {
                f.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        fixtures.clear();
        if (first != null) {
            throw first;
        }
    }

    private ConformanceFixture fixture(int nics) {
        return fixture(nics, nics);
    }

    private ConformanceFixture fixture(int nicsA, int nicsB) {
        long seed = (getClass().getSimpleName() + "." + testName + "/" + nicsA + "/" + nicsB).hashCode();
        String name = "conf-" + testName + "-" + nicsA + "x" + nicsB + "-" + fixtures.size();
        ConformanceFixture f = new ConformanceFixture(this::newEngineBuilder, name, nicsA, nicsB, seed);
        fixtures.add(f);
        return f;
    }

    private static int nextImm() {
        return NEXT_IMM.incrementAndGet();
    }

    private static long imms(TransferRequest request, int senderNics) {
        return ImmAccounting.immsProduced(request, senderNics);
    }

    // ---------------------------------------------------------------------------------------------
    // Every request type moves the right bytes to the right place
    // ---------------------------------------------------------------------------------------------

    /** Lengths that hit the edge cases of sharding: zero, tiny, not divisible, more than one shard's worth. */
    private static long[] writeLengths(int nics) {
        return new long[] {0, 1, 7, 128, 4097, 8192L * nics + 13, 65_539};
    }

    /** One write per (routing, length), to disjoint random destinations, recorded in {@code dst}'s image. */
    private static Delivery singleWrites(ConformanceFixture f, String what, List<Routing> routings, long[] lengths,
                                         boolean withImm) {
        GuardedBuffer srcBuf = f.buffer(256 * KIB);
        GuardedBuffer dstBuf = f.buffer(2 * MIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        Delivery d = new Delivery(what + " [seed " + f.seed + "]", imm).check(srcBuf, dstBuf);
        Placer placer = new Placer(f.random, dstBuf.length());
        for (Routing routing : routings) {
            for (long length : lengths) {
                long srcOffset = Placer.anywhere(f.random, srcBuf.length(), length);
                long dstOffset = placer.place(length);
                dstBuf.expectCopy(srcBuf, srcOffset, dstOffset, length);
                SingleWrite w = new SingleWrite(src, srcOffset, length, dst, dstOffset,
                        withImm ? OptionalInt.of(imm) : OptionalInt.empty(), routing);
                d.submit(w).expectImms(f.b, imms(w, f.nicsA));
            }
        }
        return d;
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void singleWriteShardedOverAllNics(int nics) {
        ConformanceFixture f = fixture(nics);
        singleWrites(f, "single write over all NICs", List.of(Routing.allNics()), writeLengths(nics), true)
                .run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void singleWriteShardedOverFewerNics(int nics) {
        ConformanceFixture f = fixture(nics);
        List<Routing> routings = new ArrayList<>();
        for (int k = 1; k <= nics; k++) {
            routings.add(Routing.sharded(k));
        }
        singleWrites(f, "single write sharded over k NICs", routings, writeLengths(nics), true).run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void singleWritePinnedToEachNic(int nics) {
        ConformanceFixture f = fixture(nics);
        List<Routing> routings = new ArrayList<>();
        for (int nic = 0; nic < nics; nic++) {
            routings.add(Routing.pinned(nic));
        }
        singleWrites(f, "single write pinned", routings, writeLengths(nics), true).run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void singleWriteWithoutImmLandsToo(int nics) {
        ConformanceFixture f = fixture(nics);
        singleWrites(f, "single write without imm", List.of(Routing.allNics(), Routing.pinned(nics - 1)),
                new long[] {1, 4097, 65_539}, false).run(f.a);
    }

    /** The reference's regression: empty shards of a write at the very end must not run past the region. */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void writeAtTheEndOfARegionStaysInside(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(4 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        long end = dstBuf.length();
        int imm = nextImm();
        Delivery d = new Delivery("write at the end of the region [seed " + f.seed + "]", imm).check(srcBuf, dstBuf);
        SingleWrite last128 = new SingleWrite(src, 100, 128, dst, end - 128, OptionalInt.of(imm), Routing.allNics());
        SingleWrite lastByte = new SingleWrite(src, 7, 1, dst, end - 1300, OptionalInt.of(imm), Routing.allNics());
        SingleWrite emptyAtEnd = new SingleWrite(src, 0, 0, dst, end, OptionalInt.of(imm), Routing.allNics());
        dstBuf.expectCopy(srcBuf, 100, end - 128, 128);
        dstBuf.expectCopy(srcBuf, 7, end - 1300, 1);
        assertEquals(nics, imms(last128, nics), "a sharded write yields one imm per NIC, empty shards included");
        for (SingleWrite w : List.of(last128, lastByte, emptyAtEnd)) {
            d.submit(w).expectImms(f.b, imms(w, nics));
        }
        d.run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void pagedWriteMovesEveryPage(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(256 * KIB);
        GuardedBuffer dstBuf = f.buffer(512 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        Delivery d = new Delivery("paged write [seed " + f.seed + "]", imm).check(srcBuf, dstBuf);
        // gaps between pages (stride > page), pages not a multiple of the NIC count, repeated source pages
        d.submit(paged(f, srcBuf, src, dstBuf, dst, 37, 1000, 1100, 3, 1536, 100, 64, imm));
        // fewer pages than NICs
        d.submit(paged(f, srcBuf, src, dstBuf, dst, 1, 4096, 4096, 0, 4096, 200_000, 4, imm));
        // contiguous pages (stride == page length), many of them
        d.submit(paged(f, srcBuf, src, dstBuf, dst, 200, 64, 64, 0, 64, 300_000, 200, imm));
        // no pages at all: completes, writes nothing, no imm
        d.submit(new PagedWrite(64, src, new int[0], 64, 0, dst, new int[0], 64, 0, OptionalInt.of(imm)));
        d.expectImms(f.b, 37 + 1 + 200).run(f.a);
    }

    /** A paged write to {@code pages} distinct random destination pages out of {@code dstSlots}. */
    private static PagedWrite paged(ConformanceFixture f, GuardedBuffer srcBuf, MemoryRegion src, GuardedBuffer dstBuf,
                                    RemoteRegion dst, int pages, long pageLength, long srcStride, long srcOffset,
                                    long dstStride, long dstOffset, int dstSlots, int imm) {
        int srcSlots = (int) ((srcBuf.length() - srcOffset - pageLength) / srcStride) + 1;
        List<Integer> slots = new ArrayList<>(IntStream.range(0, dstSlots).boxed().toList());
        Collections.shuffle(slots, f.random);
        int[] srcPages = new int[pages];
        int[] dstPages = new int[pages];
        for (int i = 0; i < pages; i++) {
            srcPages[i] = f.random.nextInt(srcSlots);
            dstPages[i] = slots.get(i);
            dstBuf.expectCopy(srcBuf, srcOffset + srcStride * srcPages[i], dstOffset + dstStride * dstPages[i],
                    pageLength);
        }
        return new PagedWrite(pageLength, src, srcPages, srcStride, srcOffset, dst, dstPages, dstStride, dstOffset,
                OptionalInt.of(imm));
    }

    /** Destinations in two regions of B and one of C; lengths chosen not to divide by the NIC count. */
    private void scatter(int nics, ScatterRouting routing, String what) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(256 * KIB);
        GuardedBuffer b1 = f.buffer(256 * KIB);
        GuardedBuffer b2 = f.buffer(128 * KIB);
        GuardedBuffer c1 = f.buffer(128 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        List<GuardedBuffer> buffers = List.of(b1, b2, c1);
        List<RemoteRegion> regions = List.of(f.register(f.b, b1, Access.REMOTE_WRITE).descriptor(),
                f.register(f.b, b2, Access.REMOTE_WRITE).descriptor(),
                f.register(f.c(), c1, Access.REMOTE_WRITE).descriptor());
        List<Placer> placers = buffers.stream().map(b -> new Placer(f.random, b.length())).toList();
        long[] lengths = {0, 1, 3, Math.max(1, nics - 1), 1001, 4099, 65_537, 9};
        List<ScatterTarget> onB = new ArrayList<>();
        List<ScatterTarget> onC = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            int which = i % 3;
            long srcOffset = Placer.anywhere(f.random, srcBuf.length(), lengths[i]);
            long dstOffset = placers.get(which).place(lengths[i]);
            buffers.get(which).expectCopy(srcBuf, srcOffset, dstOffset, lengths[i]);
            ScatterTarget t = new ScatterTarget(regions.get(which), lengths[i], srcOffset, dstOffset);
            (which == 2 ? onC : onB).add(t);
        }
        List<ScatterTarget> all = new ArrayList<>(onB);
        all.addAll(onC);
        Collections.shuffle(all, f.random);
        int imm = nextImm();
        OptionalInt i = OptionalInt.of(imm);
        new Delivery(what + " [seed " + f.seed + "]", imm)
                .submit(new Scatter(src, all, i, routing))
                .expectImms(f.b, imms(new Scatter(src, onB, i, routing), nics))
                .expectImms(f.c(), imms(new Scatter(src, onC, i, routing), nics))
                .check(srcBuf, b1, b2, c1)
                .run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void scatterShardedByPeers(int nics) {
        scatter(nics, ScatterRouting.SHARD_PEERS, "scatter shard peers");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void scatterShardedByBytesKeepsTheRemainder(int nics) {
        scatter(nics, ScatterRouting.SHARD_BYTES, "scatter shard bytes");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void scatterPinnedToEachNic(int nics) {
        for (int nic = 0; nic < nics; nic++) {
            scatter(nics, ScatterRouting.pinned(nic), "scatter pinned to NIC " + nic);
        }
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void barrierReachesEveryDestination(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer b1 = f.buffer(4 * KIB);
        GuardedBuffer b2 = f.buffer(4 * KIB);
        GuardedBuffer c1 = f.buffer(4 * KIB);
        RemoteRegion rb1 = f.register(f.b, b1, Access.REMOTE_WRITE).descriptor();
        RemoteRegion rb2 = f.register(f.b, b2, Access.REMOTE_WRITE).descriptor();
        RemoteRegion rc1 = f.register(f.c(), c1, Access.REMOTE_WRITE).descriptor();
        List<Routing> routings = new ArrayList<>(List.of(Routing.allNics(), Routing.sharded(1)));
        for (int nic = 0; nic < nics; nic++) {
            routings.add(Routing.pinned(nic));
        }
        int imm = nextImm();
        Delivery d = new Delivery("barrier [seed " + f.seed + "]", imm).check(b1, b2, c1);
        for (Routing routing : routings) {
            // B appears three times (one region twice), C once: one imm per destination entry
            d.submit(new Barrier(List.of(rb1, rc1, rb2, rb1), imm, routing))
                    .expectImms(f.b, imms(new Barrier(List.of(rb1, rb2, rb1), imm, routing), nics))
                    .expectImms(f.c(), imms(new Barrier(List.of(rc1), imm, routing), nics));
        }
        d.run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void immWriteDeliversOneImmWhateverTheRouting(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        Delivery d = new Delivery("imm write", imm).check(dstBuf);
        List<ImmWrite> writes = new ArrayList<>(List.of(ImmWrite.of(dst, imm), new ImmWrite(dst, imm, Routing.allNics())));
        for (int nic = 0; nic < nics; nic++) {
            writes.add(new ImmWrite(dst, imm, Routing.pinned(nic)));
        }
        for (ImmWrite w : writes) {
            d.submit(w).expectImms(f.b, 1);
        }
        d.run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void sendReachesPostedReceivesAndBuffersAreReposted(int nics) {
        ConformanceFixture f = fixture(nics);
        int bufferBytes = 1024;
        int buffers = 4;
        ConcurrentLinkedQueue<byte[]> received = new ConcurrentLinkedQueue<>();
        ReceiveSet receives = f.b.postReceives(bufferBytes, buffers,
                message -> received.add(message.toArray(JAVA_BYTE)));
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        byte[] image = srcBuf.body().toArray(JAVA_BYTE);

        // one at a time, three times as many messages as buffers: proves re-posting
        for (int i = 0; i < 3 * buffers; i++) {
            long length = i == 0 ? bufferBytes : 1 + f.random.nextInt(bufferBytes);
            long offset = Placer.anywhere(f.random, srcBuf.length(), length);
            if (i % 2 == 0) {
                Waits.get(f.a.send(f.b.mainAddress(), src, offset, length), "send " + i);
            } else {
                RecordingCallback cb = new RecordingCallback();
                f.a.send(f.b.mainAddress(), src, offset, length, cb);
                cb.assertDoneOnce("send " + i);
            }
            int expectedCount = i + 1;
            Waits.until(() -> received.size() >= expectedCount, () -> "message " + expectedCount);
            byte[] message = received.stream().skip(i).findFirst().orElseThrow();
            assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) (offset + length)), message,
                    "message " + i + " [seed " + f.seed + "]");
        }
        // a burst that fills every buffer at once: contents arrive, in any order
        received.clear();
        List<String> expected = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            long length = 1 + f.random.nextInt(bufferBytes);
            long offset = Placer.anywhere(f.random, srcBuf.length(), length);
            expected.add(Arrays.toString(Arrays.copyOfRange(image, (int) offset, (int) (offset + length))));
            sends.add(f.a.send(f.b.mainAddress(), src, offset, length));
        }
        sends.forEach(s -> Waits.get(s, "burst send"));
        Waits.until(() -> received.size() >= buffers, () -> buffers + " burst messages (have " + received.size() + ")");
        List<String> got = new ArrayList<>(received.stream().map(Arrays::toString).toList());
        Collections.sort(expected);
        Collections.sort(got);
        assertEquals(expected, got, "burst messages [seed " + f.seed + "]");
        assertEquals(4L * buffers, receives.received());
        srcBuf.assertMatches("send source");
    }

    // ---------------------------------------------------------------------------------------------
    // Imm accounting, expectations, counters
    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void receiverCountsExactlyWhatImmAccountingPromisesForEveryRequestType(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(256 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        List<java.util.function.IntFunction<TransferRequest>> shapes = List.of(
                imm -> SingleWrite.withImm(src, 0, 1000, dst, 0, imm),
                imm -> SingleWrite.withImm(src, 0, 0, dst, 0, imm),
                imm -> SingleWrite.withImm(src, 0, 50_000, dst, 0, imm).routed(Routing.sharded(Math.max(1, nics - 1))),
                imm -> SingleWrite.withImm(src, 0, 1000, dst, 0, imm).routed(Routing.pinned(nics - 1)),
                imm -> new PagedWrite(100, src, new int[] {0, 1, 2, 3, 4}, 100, 0, dst, new int[] {4, 3, 2, 1, 0}, 100,
                        0, OptionalInt.of(imm)),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.SHARD_PEERS),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.SHARD_BYTES),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.pinned(0)),
                imm -> new Barrier(List.of(dst, dst), imm, Routing.allNics()),
                imm -> new ImmWrite(dst, imm, Routing.allNics()));
        List<TransferRequest> requests = new ArrayList<>();
        List<ImmCounter> counters = new ArrayList<>();
        for (var shape : shapes) {
            int imm = nextImm();
            counters.add(f.b.immCounter(imm));
            requests.add(shape.apply(imm));
        }
        TransferCounter done = new TransferCounter();
        requests.forEach(r -> f.a.submit(r, done));
        done.await(requests.size(), Waits.DEADLINE);
        done.throwIfFailed();
        for (int i = 0; i < requests.size(); i++) {
            long expected = imms(requests.get(i), nics);
            counters.get(i).await(expected, Waits.DEADLINE);
            assertEquals(expected, counters.get(i).arrived(), "imms of " + requests.get(i));
        }
    }

    private static List<ScatterTarget> targets(RemoteRegion dst, int count) {
        List<ScatterTarget> t = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            t.add(new ScatterTarget(dst, 1000 + i, 0, 2000L * i));
        }
        return t;
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void expectImmsFiresExactlyOnceAndSurplusImmsBecomeEvents(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder events = new ImmRecorder();
        f.b.onImm(events);
        int imm = nextImm();
        SingleWrite write = SingleWrite.withImm(src, 0, 30_000, dst, 0, imm);
        long expected = imms(write, nics) + 1;
        AtomicInteger fired = new AtomicInteger();
        CountDownLatch reached = new CountDownLatch(1);
        ImmExpectation expectation = f.b.expectImms(imm, expected, () -> {
            fired.incrementAndGet();
            reached.countDown();
        });
        assertEquals(imm, expectation.imm());
        assertEquals(expected, expectation.expected());

        // the expected imms, plus two surplus ones in the same burst
        Waits.get(f.a.submit(write), "sharded write");
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm write");
        }
        Waits.await(reached, "the expectation to fire");
        events.awaitAtLeast(imm, 2);
        assertTrue(expectation.isReached());
        assertEquals(expected, expectation.counted());
        assertFalse(expectation.cancel(), "a reached expectation cannot be cancelled");

        // later imms of the value are events too; the callback never runs again
        for (int i = 0; i < 5; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "late imm write");
        }
        events.awaitAtLeast(imm, 7);
        assertEquals(7, events.count(imm));
        assertEquals(1, fired.get(), "expectImms callback invocations");
        assertFalse(f.b.removeImmCounter(imm), "a reached expectation is removed");

        // the value can be expected again
        CountDownLatch again = new CountDownLatch(1);
        f.b.expectImms(imm, 2, again::countDown);
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "re-armed imm 1");
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "re-armed imm 2");
        Waits.await(again, "the re-armed expectation");
        assertEquals(1, fired.get());
        srcBuf.assertMatches("source");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void immCounterAwaitWorksForImmsBeforeAndAfterTheCall(int nics) throws Exception {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter counter = f.b.immCounter(imm);
        assertSame(counter, f.b.immCounter(imm), "one counter per value");

        // before: the imms have all arrived when await is called
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(new ImmWrite(dst, imm, Routing.pinned(i % nics))), "early imm " + i);
        }
        Waits.until(() -> counter.arrived() == 3, () -> "3 early imms (have " + counter.arrived() + ")");
        counter.await(3, Waits.DEADLINE);

        // after: the waiter is already parked when the imms are sent
        FutureTaskThread waiter = FutureTaskThread.start(() -> counter.await(4, Waits.DEADLINE));
        Waits.until(() -> counter.balance() == -4, () -> "the waiter to reserve 4 (balance " + counter.balance() + ")");
        for (int i = 0; i < 4; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "late imm " + i);
        }
        waiter.join("the waiting await");
        assertEquals(7, counter.arrived());
        assertEquals(0, counter.balance());
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void removeImmCounterCancelsAndLaterImmsBecomeEvents(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder events = new ImmRecorder();
        f.b.onImm(events);

        int counted = nextImm();
        ImmCounter counter = f.b.immCounter(counted);
        Waits.get(f.a.submit(ImmWrite.of(dst, counted)), "counted imm");
        Waits.until(() -> counter.arrived() == 1, () -> "the counted imm");
        assertTrue(f.b.removeImmCounter(counted));
        assertFalse(f.b.removeImmCounter(counted), "removing twice");
        Waits.get(f.a.submit(ImmWrite.of(dst, counted)), "imm after removal");
        events.awaitAtLeast(counted, 1);
        assertEquals(1, counter.arrived(), "a removed counter counts no more");

        int expected = nextImm();
        AtomicInteger fired = new AtomicInteger();
        ImmExpectation expectation = f.b.expectImms(expected, 5, fired::incrementAndGet);
        for (int i = 0; i < 2; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, expected)), "expected imm " + i);
        }
        Waits.until(() -> expectation.counted() == 2, () -> "2 counted (have " + expectation.counted() + ")");
        assertTrue(f.b.removeImmCounter(expected));
        assertFalse(expectation.cancel(), "already cancelled by removeImmCounter");
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, expected)), "imm after cancel " + i);
        }
        events.awaitAtLeast(expected, 3);
        assertEquals(0, fired.get(), "a cancelled expectation must not fire");
        assertFalse(expectation.isReached());

        int viaCancel = nextImm();
        ImmExpectation cancelled = f.b.expectImms(viaCancel, 1, fired::incrementAndGet);
        assertTrue(cancelled.cancel());
        Waits.get(f.a.submit(ImmWrite.of(dst, viaCancel)), "imm after ImmExpectation.cancel");
        events.awaitAtLeast(viaCancel, 1);
        assertEquals(0, fired.get());
        assertFalse(f.b.removeImmCounter(nextImm()), "removing an unknown value");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void uncountedImmsReachEveryHandlerUntilItUnsubscribes(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder first = new ImmRecorder();
        ImmRecorder second = new ImmRecorder();
        Subscription s1 = f.b.onImm(first);
        f.b.onImm(second);
        int imm = nextImm();
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm 1");
        first.awaitAtLeast(imm, 1);
        second.awaitAtLeast(imm, 1);
        s1.close();
        s1.close();
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm 2");
        second.awaitAtLeast(imm, 2);
        assertEquals(1, first.count(imm), "an unsubscribed handler got an imm");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void immTableRejectsConflictingRegistrations(int nics) {
        ConformanceFixture f = fixture(nics);
        int imm = nextImm();
        assertInvalid(() -> f.b.expectImms(imm, 0, () -> { }), "expectImms count 0");
        assertInvalid(() -> f.b.expectImms(imm, -1, () -> { }), "expectImms count -1");
        f.b.expectImms(imm, 3, () -> { });
        assertInvalid(() -> f.b.expectImms(imm, 3, () -> { }), "second expectation of one value");
        assertInvalid(() -> f.b.immCounter(imm), "counter while an expectation is active");
        assertTrue(f.b.removeImmCounter(imm));
        f.b.immCounter(imm);
        assertInvalid(() -> f.b.expectImms(imm, 1, () -> { }), "expectation while a counter exists");
    }

    // ---------------------------------------------------------------------------------------------
    // Completion forms
    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void everyCompletionFormCompletesExactlyOnce(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter arrived = f.b.immCounter(imm);
        SingleWrite write = SingleWrite.withImm(src, 0, 20_000, dst, 0, imm);
        dstBuf.expectCopy(srcBuf, 0, 0, 20_000);

        RecordingCallback callback = new RecordingCallback();
        f.a.submit(write, callback);
        callback.assertDoneOnce("callback form");

        Waits.get(f.a.submit(write), "future form");

        TransferCounter counter = f.a.newTransferCounter();
        for (int i = 0; i < 100; i++) {
            f.a.submit(write, counter); // the same request instance, re-submitted
        }
        counter.await(100, Waits.DEADLINE);
        assertEquals(100, counter.completed());
        assertEquals(0, counter.failed(), () -> "counter form: " + counter.firstError());

        long expected = 102 * imms(write, nics);
        arrived.await(expected, Waits.DEADLINE);
        assertEquals(expected, arrived.arrived());
        assertEquals(1, callback.invocations(), "the callback was invoked again later");
        assertEquals(100, counter.completed(), "the counter was completed again later");
        dstBuf.assertMatches("completion forms");
    }

    // ---------------------------------------------------------------------------------------------
    // Bad input: a typed exception, and registered memory untouched
    // ---------------------------------------------------------------------------------------------

    /** Submits {@code request} in all three forms and asserts each is rejected synchronously. */
    private static void assertRejected(TransferEngine engine, TransferRequest request, ErrorCategory category,
                                       String what) {
        RecordingCallback callback = new RecordingCallback();
        TransferCounter counter = new TransferCounter();
        assertCategory(category, () -> engine.submit(request, callback), what + " (callback form)");
        assertCategory(category, () -> engine.submit(request), what + " (future form)");
        assertCategory(category, () -> engine.submit(request, counter), what + " (counter form)");
        callback.assertNotCalled(what);
        assertEquals(0, counter.completed(), what + ": a rejected request must not complete its counter");
    }

    private static TransferException assertCategory(ErrorCategory category, Executable call, String what) {
        Class<? extends TransferException> type = switch (category) {
            case CLOSED -> ClosedException.class;
            case INVALID_ARGUMENT -> InvalidRequestException.class;
            default -> TransferException.class;
        };
        TransferException e = assertThrows(type, call, what);
        assertEquals(category, e.category(), () -> what + ": " + e);
        return e;
    }

    private static void assertInvalid(Executable call, String what) {
        assertCategory(ErrorCategory.INVALID_ARGUMENT, call, what);
    }

    /** Proves the worker is alive and gives a wrongly posted write time to land before memory is checked. */
    private static void flush(ConformanceFixture f) {
        GuardedBuffer scratch = f.buffer(4 * KIB);
        RemoteRegion r = f.register(f.b, scratch, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter c = f.b.immCounter(imm);
        Waits.get(f.a.submit(new ImmWrite(r, imm, Routing.allNics())), "flush");
        c.await(1, Waits.DEADLINE);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void rangesPastEitherRegionAreRejected(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(8 * KIB);
        GuardedBuffer dstBuf = f.buffer(8 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        long s = srcBuf.length();
        long d = dstBuf.length();
        int imm = nextImm();
        ImmCounter counter = f.b.immCounter(imm);
        OptionalInt i = OptionalInt.of(imm);
        List<TransferRequest> bad = List.of(
                new SingleWrite(src, s - 10, 11, dst, 0, i, Routing.allNics()),
                new SingleWrite(src, s + 1, 0, dst, 0, i, Routing.allNics()),
                new SingleWrite(src, 0, 11, dst, d - 10, i, Routing.allNics()),
                new SingleWrite(src, 0, 0, dst, d + 1, i, Routing.allNics()),
                new SingleWrite(src, 0, d + 1, dst, 0, i, Routing.pinned(0)),
                // offset + length overflows to a negative number
                new SingleWrite(src, Long.MAX_VALUE, 2, dst, 0, i, Routing.allNics()),
                new SingleWrite(src, 0, 2, dst, Long.MAX_VALUE, i, Routing.allNics()),
                new SingleWrite(src, 1, Long.MAX_VALUE, dst, 0, i, Routing.allNics()),
                // pages: past the end on either side, negative indices, stride * index overflow
                new PagedWrite(100, src, new int[] {0, 82}, 100, 0, dst, new int[] {0, 1}, 100, 0, i),
                new PagedWrite(100, src, new int[] {0, 1}, 100, 0, dst, new int[] {1, 82}, 100, 0, i),
                new PagedWrite(100, src, new int[] {0, -1}, 100, 0, dst, new int[] {0, 1}, 100, 0, i),
                new PagedWrite(100, src, new int[] {0, 1}, 100, 0, dst, new int[] {-1, 1}, 100, 200, i),
                new PagedWrite(100, src, new int[] {0, 1}, 100, 0, dst, new int[] {0, Integer.MAX_VALUE},
                        Long.MAX_VALUE / 4, 0, i),
                new PagedWrite(100, src, new int[] {0}, 100, s, dst, new int[] {0}, 100, 0, i),
                // one bad scatter target spoils the whole request
                new Scatter(src, List.of(new ScatterTarget(dst, 100, 0, 0), new ScatterTarget(dst, 100, 0, d - 99)), i,
                        ScatterRouting.SHARD_PEERS),
                new Scatter(src, List.of(new ScatterTarget(dst, 100, s - 99, 0)), i, ScatterRouting.SHARD_BYTES),
                new Scatter(src, List.of(new ScatterTarget(dst, 1, Long.MAX_VALUE, 0)), i, ScatterRouting.pinned(0)));
        for (TransferRequest r : bad) {
            assertRejected(f.a, r, ErrorCategory.INVALID_ARGUMENT, r.toString());
        }
        assertInvalid(() -> f.a.send(f.b.mainAddress(), src, s - 10, 11), "send past the source region");
        assertInvalid(() -> f.a.send(f.b.mainAddress(), src, -1, 1), "send with a negative offset");
        assertInvalid(() -> f.a.send(f.b.mainAddress(), src, 0, -1), "send with a negative length");
        assertInvalid(() -> f.a.send(null, src, 0, 1), "send to null");
        assertInvalid(() -> f.a.submit(null), "null request");
        flush(f);
        assertEquals(0, counter.arrived(), "a rejected request produced imms");
        srcBuf.assertMatches("rejected requests");
        dstBuf.assertMatches("rejected requests");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void nicIndicesBeyondTheGroupAreRejected(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(8 * KIB);
        GuardedBuffer dstBuf = f.buffer(8 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        List<TransferRequest> bad = List.of(
                SingleWrite.withImm(src, 0, 100, dst, 0, imm).routed(Routing.pinned(nics)),
                SingleWrite.withImm(src, 0, 100, dst, 0, imm).routed(Routing.pinned(Integer.MAX_VALUE)),
                SingleWrite.withImm(src, 0, 100, dst, 0, imm).routed(Routing.sharded(nics + 1)),
                new Scatter(src, targets(dst, 1), OptionalInt.of(imm), ScatterRouting.pinned(nics)),
                new Barrier(List.of(dst), imm, Routing.pinned(nics)),
                new ImmWrite(dst, imm, Routing.pinned(nics)));
        for (TransferRequest r : bad) {
            assertRejected(f.a, r, ErrorCategory.INVALID_ARGUMENT, r.toString());
        }
        flush(f);
        dstBuf.assertMatches("rejected NIC indices");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void localAndClosedRegionsCannotBeUsedWrongly(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(8 * KIB);
        GuardedBuffer localBuf = f.buffer(8 * KIB);
        GuardedBuffer dstBuf = f.buffer(8 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        MemoryRegion local = f.register(f.b, localBuf, Access.LOCAL);
        MemoryRegion remote = f.register(f.b, dstBuf, Access.REMOTE_WRITE);
        RemoteRegion dst = remote.descriptor();
        assertEquals(Access.LOCAL, local.access());
        assertInvalid(local::descriptor, "descriptor of a LOCAL region");

        // a local region is a fine source
        GuardedBuffer onA = f.buffer(8 * KIB);
        int imm = nextImm();
        onA.expectCopy(localBuf, 10, 20, 3000);
        new Delivery("write from a LOCAL region", imm)
                .submit(new SingleWrite(local, 10, 3000, f.register(f.a, onA, Access.REMOTE_WRITE).descriptor(), 20,
                        OptionalInt.of(imm), Routing.allNics()))
                .expectImms(f.a, nics)
                .check(localBuf, onA)
                .run(f.b);

        // a closed (deregistered) source region
        src.close();
        src.close();
        assertFalse(src.isOpen());
        assertRejected(f.a, SingleWrite.withImm(src, 0, 100, dst, 0, nextImm()), ErrorCategory.CLOSED,
                "write from a closed region");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.send(f.b.mainAddress(), src, 0, 10), "send from a closed region");

        // a region of another engine as the source
        assertRejected(f.a, SingleWrite.of(remote, 0, 100, dst, 0), ErrorCategory.INVALID_ARGUMENT,
                "write from a region registered with another engine");
        flush(f);
        dstBuf.assertMatches("misused regions");
        srcBuf.assertMatches("misused regions");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void writeToAClosedPeerRegionFailsAsynchronously(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(16 * KIB);
        GuardedBuffer dstBuf = f.buffer(16 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        MemoryRegion target = f.register(f.b, dstBuf, Access.REMOTE_WRITE);
        RemoteRegion dst = target.descriptor();
        target.close();
        int imm = nextImm();
        ImmCounter counter = f.b.immCounter(imm);

        TransferException viaFuture = Waits.failure(f.a.submit(SingleWrite.withImm(src, 0, 5000, dst, 0, imm)),
                "write to a closed peer region");
        assertEquals(ErrorCategory.REMOTE_ACCESS, viaFuture.category(), viaFuture::toString);
        RecordingCallback callback = new RecordingCallback();
        f.a.submit(SingleWrite.withImm(src, 0, 5000, dst, 0, imm).routed(Routing.pinned(nics - 1)), callback);
        callback.assertFailedOnce(ErrorCategory.REMOTE_ACCESS, "write to a closed peer region (callback)");
        // (not a zero-length write: InfiniBand does not check the key of those)
        TransferCounter tc = new TransferCounter();
        f.a.submit(SingleWrite.withImm(src, 0, 100, dst, 0, imm), tc);
        tc.await(1, Waits.DEADLINE);
        assertEquals(1, tc.failed());
        assertEquals(ErrorCategory.REMOTE_ACCESS, tc.firstError().category());

        flush(f);
        assertEquals(0, counter.arrived(), "a rejected write delivered its imm");
        assertEquals(1, callback.invocations());
        dstBuf.assertMatches("closed peer region");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void forgedDescriptorsFailWithoutTouchingMemory(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(16 * KIB);
        GuardedBuffer dstBuf = f.buffer(16 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion real = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();

        List<RemoteRegion.NicKey> badKeys = real.nics().stream()
                .map(k -> new RemoteRegion.NicKey(k.address(), k.remoteKey() ^ 0x5A5A_0000_00A5_A5A5L, k.remoteBase()))
                .toList();
        RemoteRegion wrongKey = new RemoteRegion(real.baseAddress(), real.lengthBytes(), badKeys);
        TransferException e = Waits.failure(f.a.submit(SingleWrite.of(src, 0, 4096, wrongKey, 0)), "wrong remote key");
        assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);

        // claims twice the length: the engine lets it through, the target must refuse
        RemoteRegion tooLong = new RemoteRegion(real.baseAddress(), real.lengthBytes() * 2, real.nics());
        e = Waits.failure(f.a.submit(SingleWrite.of(src, 0, 128, tooLong, real.lengthBytes()).routed(Routing.pinned(0))),
                "write past the real end of a region");
        assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);

        byte[] bogus = new byte[24];
        f.random.nextBytes(bogus);
        RemoteRegion nowhere = new RemoteRegion(real.baseAddress(), real.lengthBytes(),
                List.of(new RemoteRegion.NicKey(DomainAddress.of(bogus), 1, real.nic(0).remoteBase())));
        TransferException unreachable;
        try {
            unreachable = Waits.failure(f.a.submit(SingleWrite.of(src, 0, 128, nowhere, 0)), "write to an unknown peer");
        } catch (TransferException synchronous) {
            unreachable = synchronous;
        }
        assertEquals(ErrorCategory.PEER_UNREACHABLE, unreachable.category(), unreachable.toString());

        flush(f);
        dstBuf.assertMatches("forged descriptors");
    }

    /** Peers with different NIC counts interoperate: NIC i writes through the peer's entry i mod its count. */
    @ParameterizedTest(name = "A has {0} NICs, B has {1}", allowZeroInvocations = true)
    @MethodSource("differentNicCounts")
    void peersWithDifferentNicCountsInteroperate(int nicsA, int nicsB) {
        ConformanceFixture f = fixture(nicsA, nicsB);
        GuardedBuffer srcBuf = f.buffer(256 * KIB);
        GuardedBuffer dstBuf = f.buffer(1 * MIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        assertEquals(nicsB, dst.nicCount());
        int imm = nextImm();
        OptionalInt i = OptionalInt.of(imm);
        Delivery d = new Delivery("A(" + nicsA + ") -> B(" + nicsB + ") [seed " + f.seed + "]", imm).check(srcBuf, dstBuf);
        Placer placer = new Placer(f.random, dstBuf.length());
        List<Routing> routings = new ArrayList<>(List.of(Routing.allNics()));
        for (int nic = 0; nic < nicsA; nic++) {
            routings.add(Routing.pinned(nic));
        }
        for (Routing routing : routings) {
            for (long length : new long[] {1, 5000, 40_001}) {
                long srcOffset = Placer.anywhere(f.random, srcBuf.length(), length);
                long dstOffset = placer.place(length);
                dstBuf.expectCopy(srcBuf, srcOffset, dstOffset, length);
                d.submit(new SingleWrite(src, srcOffset, length, dst, dstOffset, i, routing));
                d.expectImms(f.b, ImmAccounting.writesOf(routing, nicsA));
            }
        }
        long pageBase = placer.place(64 * 1024);
        int[] pages = IntStream.range(0, 16).toArray();
        int[] dstPages = new int[pages.length];
        for (int p = 0; p < pages.length; p++) {
            dstPages[p] = pages.length - 1 - p;
            dstBuf.expectCopy(srcBuf, 4096L * pages[p], pageBase + 4096L * dstPages[p], 4096);
        }
        d.submit(new PagedWrite(4096, src, pages, 4096, 0, dst, dstPages, 4096, pageBase, i)).expectImms(f.b, 16);
        List<ScatterTarget> targets = new ArrayList<>();
        for (long length : new long[] {3, 1001, 7777}) {
            long srcOffset = Placer.anywhere(f.random, srcBuf.length(), length);
            long dstOffset = placer.place(length);
            dstBuf.expectCopy(srcBuf, srcOffset, dstOffset, length);
            targets.add(new ScatterTarget(dst, length, srcOffset, dstOffset));
        }
        Scatter scatter = new Scatter(src, targets, i, ScatterRouting.SHARD_BYTES);
        d.submit(scatter).expectImms(f.b, imms(scatter, nicsA));
        d.submit(new Barrier(List.of(dst, dst), imm, Routing.allNics())).expectImms(f.b, 2);
        d.submit(new ImmWrite(dst, imm, Routing.pinned(nicsA - 1))).expectImms(f.b, 1);
        d.run(f.a);
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void registrationRejectsWhatCannotBeRegistered(int nics) {
        ConformanceFixture f = fixture(nics);
        assertInvalid(() -> f.a.register(MemorySegment.ofArray(new byte[4096]), Access.REMOTE_WRITE), "heap segment");
        assertInvalid(() -> f.a.register(MemorySegment.ofArray(new long[512]), Access.LOCAL), "heap segment (long[])");
        assertInvalid(() -> f.a.register(f.arena.allocate(4096).asSlice(0, 0), Access.LOCAL), "empty segment");
        assertInvalid(() -> f.a.register(null, Access.LOCAL), "null segment");
        MemorySegment native4k = f.arena.allocate(4096);
        assertInvalid(() -> f.a.register(native4k, null), "null access");
        assertInvalid(() -> f.a.register(native4k, null, Access.LOCAL), "null device");
        assertInvalid(() -> f.a.register(native4k, Device.host(f.a.groupCount()), Access.LOCAL), "unknown group");
        assertInvalid(() -> f.a.register(native4k, Device.cuda(0), Access.LOCAL), "CUDA memory on a host-only engine");
        MemoryRegion ok = f.a.register(native4k, Access.REMOTE_WRITE);
        assertEquals(4096, ok.lengthBytes());
        assertEquals(native4k.address(), ok.address());
        assertEquals(0, ok.group());
        assertEquals(nics, ok.descriptor().nicCount());
        assertEquals(4096, ok.descriptor().lengthBytes());
        assertEquals(ok.descriptor(), RemoteRegion.fromHex(ok.descriptor().toHex()));
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void memoryFreedUnderARegistrationIsNeverTouched(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(16 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        // the sender's source arena closes while registered: requests fail, nothing is read
        Arena doomed = Arena.ofShared();
        MemoryRegion src = f.a.register(doomed.allocate(256 * KIB, 4096), Access.LOCAL);
        doomed.close();
        assertFalse(src.isOpen(), "a region whose memory was freed reports closed");
        assertRejected(f.a, SingleWrite.withImm(src, 0, 1000, dst, 0, nextImm()), ErrorCategory.CLOSED,
                "write from freed memory");

        // the receiver's arena closes while registered: the write completes or fails typed, never crashes
        Arena doomedTarget = Arena.ofShared();
        RemoteRegion freed = f.b.register(doomedTarget.allocate(256 * KIB, 4096), Access.REMOTE_WRITE).descriptor();
        doomedTarget.close();
        GuardedBuffer srcBuf = f.buffer(16 * KIB);
        MemoryRegion live = f.register(f.a, srcBuf, Access.LOCAL);
        RecordingCallback cb = new RecordingCallback();
        f.a.submit(SingleWrite.of(live, 0, 8192, freed, 0), cb);
        cb.awaitOutcome("write into freed peer memory");
        flush(f);
        assertEquals(1, cb.invocations());
        dstBuf.assertMatches("freed memory");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void aClosedEngineRejectsEverythingAndItsPeersSeeErrors(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(8 * KIB);
        GuardedBuffer aBuf = f.buffer(8 * KIB);
        GuardedBuffer bBuf = f.buffer(8 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion onA = f.register(f.a, aBuf, Access.REMOTE_WRITE).descriptor();
        MemoryRegion bSrc = f.register(f.b, bBuf, Access.LOCAL);
        RemoteRegion onB = f.register(f.b, f.buffer(8 * KIB), Access.REMOTE_WRITE).descriptor();
        f.a.close();
        f.a.close();
        assertFalse(src.isOpen(), "closing the engine deregisters its regions");

        assertRejected(f.a, SingleWrite.withImm(src, 0, 100, onB, 0, nextImm()), ErrorCategory.CLOSED, "submit after close");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.send(f.b.mainAddress(), src, 0, 10), "send after close");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.register(f.arena.allocate(4096), Access.LOCAL), "register after close");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.postReceives(64, 2, m -> { }), "postReceives after close");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.expectImms(nextImm(), 1, () -> { }), "expectImms after close");
        assertCategory(ErrorCategory.CLOSED, () -> f.a.immCounter(nextImm()), "immCounter after close");

        // the peer that writes to the closed engine gets a typed error, not a hang
        RecordingCallback cb = new RecordingCallback();
        f.b.submit(SingleWrite.of(bSrc, 0, 4096, onA, 0), cb);
        cb.awaitOutcome("write to a closed engine");
        assertEquals(1, cb.invocations());
        assertFalse(cb.succeeded(), "a write into a closed engine's region succeeded");
        assertTrue(cb.error().category() == ErrorCategory.REMOTE_ACCESS
                || cb.error().category() == ErrorCategory.PEER_UNREACHABLE, cb.error()::toString);
        aBuf.assertMatches("closed engine's memory");
    }

    // ---------------------------------------------------------------------------------------------
    // Robustness: throwing user code, close with transfers in flight, leaks
    // ---------------------------------------------------------------------------------------------

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
        for (int i = 0; i < 10; i++) {
            f.a.submit(SingleWrite.of(src, 0, 1000, dst, 0), throwing);
        }
        Waits.until(() -> thrown.get() >= 10, () -> "10 throwing callbacks (have " + thrown.get() + ")");
        assertEquals(10, thrown.get(), "each throwing callback runs once, and only onDone");

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
        dstBuf.expectCopy(srcBuf, 5, 6, 20_000);
        int last = nextImm();
        new Delivery("after throwing callbacks", last)
                .submit(SingleWrite.withImm(src, 5, 20_000, dst, 6, last))
                .expectImms(f.b, nics)
                .check(dstBuf)
                .run(f.a);
        assertEquals(10, thrown.get(), "a throwing callback was called again");
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
     * sends) and closed again leave no native memory, registrations or threads behind. Measured with
     * {@link NativeMemoryProbe}: after warm-up cycles, many more cycles may not grow the C heap by more than
     * a few cycles' worth of JVM noise; a leak of the receive buffers alone would be far above it.
     */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void closedEnginesLeaveNoNativeMemoryRegistrationsOrThreads(int nics) {
        Assumptions.assumeTrue(NativeMemoryProbe.available(), "needs glibc mallinfo2");
        int receiveBytes = 256 * KIB;
        int receiveBuffers = 16;
        long perCycleReceiveMemory = (long) receiveBytes * receiveBuffers;
        for (int i = 0; i < 3; i++) {
            useAndClose(nics, receiveBytes, receiveBuffers);
        }
        long before = lowestInUse();
        int cycles = 10;
        for (int i = 0; i < cycles; i++) {
            useAndClose(nics, receiveBytes, receiveBuffers);
        }
        long after = lowestInUse();
        long growth = after - before;
        System.out.printf("%s[%d NICs]: C heap in use %d -> %d bytes over %d engine cycles (%+d)%n", testName, nics,
                before, after, cycles, growth);
        assertTrue(growth < 2 * perCycleReceiveMemory, "C heap grew by " + growth + " bytes over " + cycles
                + " build/use/close cycles: native memory is leaking (see docs/testing.md)");
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
