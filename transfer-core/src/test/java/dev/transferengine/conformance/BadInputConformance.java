package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.Device;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conformance, part 3: bad input gets a typed exception (synchronously where the engine can know, from the
 * worker where only the target can) and leaves registered memory untouched: ranges past regions, overflow,
 * NIC indices beyond the group, LOCAL or closed regions, forged descriptors, freed memory, closed engines.
 * Peers with different NIC counts are not bad input: they must interoperate.
 */
public abstract class BadInputConformance extends ConformanceSection {
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
        assertEquals(3, f.a.counters().totalErrors(ErrorCategory.REMOTE_ACCESS), "refusals counted by category");
        assertEquals(3, f.a.counters().total(dev.transferengine.api.Counter.TRANSFERS_FAILED));
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
        // random address bytes: a provider may see they are no address at all (INVALID_ARGUMENT, at once) or
        // fail to reach them (PEER_UNREACHABLE, from the worker); either way typed, and nothing written
        TransferException unreachable;
        try {
            unreachable = Waits.failure(f.a.submit(SingleWrite.of(src, 0, 128, nowhere, 0)), "write to an unknown peer");
        } catch (TransferException synchronous) {
            unreachable = synchronous;
        }
        ErrorCategory category = unreachable.category();
        assertTrue(category == ErrorCategory.PEER_UNREACHABLE || category == ErrorCategory.INVALID_ARGUMENT,
                unreachable::toString);

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
}
