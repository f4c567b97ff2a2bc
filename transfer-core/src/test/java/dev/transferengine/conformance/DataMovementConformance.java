package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Conformance, part 1: every request type moves the right bytes to the right place (seeded random data,
 * offsets, strides, page indices; sharded, pinned, fewer shards than NICs) and nothing else changes.
 */
public abstract class DataMovementConformance extends ConformanceSection {
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

    /**
     * A segment of a confined arena is as registrable as any other (the provider registers it on its worker thread,
     * by address), as a source and as a target: the bytes land and the imms are counted. Found on libfabric, where
     * registering one failed with WrongThreadException from the worker.
     */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void memoryOfAConfinedArenaIsRegisteredAndWritten(int nics) {
        ConformanceFixture f = fixture(nics);
        try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment src = confined.allocate(64 * KIB, 4096);
            java.lang.foreign.MemorySegment dst = confined.allocate(64 * KIB, 4096);
            for (long i = 0; i < src.byteSize(); i++) {
                src.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            MemoryRegion s = f.a.register(src, Access.LOCAL);
            MemoryRegion d = f.b.register(dst, Access.REMOTE_WRITE);
            int imm = nextImm();
            dev.transferengine.api.ImmCounter counter = f.b.immCounter(imm);
            SingleWrite w = SingleWrite.withImm(s, 0, src.byteSize(),
                    RemoteRegion.fromHex(d.descriptor().toHex()), 0, imm);
            Waits.get(f.a.submit(w), "write from and into confined memory");
            counter.await(imms(w, f.nicsA), Waits.DEADLINE);
            assertEquals(-1, src.mismatch(dst), "every byte landed");
            s.close();
            d.close();
        }
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

    /**
     * Several registrations of one memory (the reference de-duplicated them by base address and handed the
     * first one's key to remote writers) each work with their own bounds, and closing one leaves the others.
     */
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void overlappingRegistrationsOfOneMemoryEachWork(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        MemoryRegion local = f.register(f.b, dstBuf, Access.LOCAL);
        MemoryRegion whole = f.register(f.b, dstBuf, Access.REMOTE_WRITE);
        MemoryRegion slice = f.b.register(dstBuf.body().asSlice(4 * KIB, 8 * KIB), Access.REMOTE_WRITE);
        RemoteRegion sliceDescriptor = slice.descriptor();
        local.close();

        int imm = nextImm();
        dstBuf.expectCopy(srcBuf, 0, 100, 1000);
        dstBuf.expectCopy(srcBuf, 5000, 12 * KIB - 777, 777);
        new Delivery("writes through two registrations of one memory", imm)
                .submit(SingleWrite.withImm(src, 0, 1000, whole.descriptor(), 100, imm)).expectImms(f.b, nics)
                .submit(SingleWrite.withImm(src, 5000, 777, sliceDescriptor, 8 * KIB - 777, imm)).expectImms(f.b, nics)
                .check(dstBuf)
                .run(f.a);
        assertRejected(f.a, SingleWrite.of(src, 0, 100, sliceDescriptor, 8 * KIB - 50),
                ErrorCategory.INVALID_ARGUMENT, "a write past a slice's registration");

        slice.close();
        TransferException e = Waits.failure(
                f.a.submit(SingleWrite.of(src, 0, 100, sliceDescriptor, 0)), "a write through a closed slice registration");
        assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);
        int after = nextImm();
        dstBuf.expectCopy(srcBuf, 20_000, 30_000, 3000);
        new Delivery("a write through the remaining registration", after)
                .submit(SingleWrite.withImm(src, 20_000, 3000, whole.descriptor(), 30_000, after)).expectImms(f.b, nics)
                .check(dstBuf, srcBuf)
                .run(f.a);
    }
}
