package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes longer than the provider's maximum message size, through the engine: loopback domains that take at
 * most 64 KiB per operation, delivering in random order. Every request type moves its bytes, and the
 * receiver counts exactly the imms {@link dev.transferengine.api.ImmAccounting} promises, each only after
 * the bytes of its write landed. SENDs cannot be split and keep the provider's limit.
 */
class LoopbackSplitWritesTest extends ConformanceBase {
    private static final int LIMIT = 64 * KIB;

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("loopback").groups(1, nicsPerGroup)
                .providerOption("loopback.maxMessageBytes", Integer.toString(LIMIT))
                .providerOption("loopback.reorder", "true")
                .providerOption("loopback.delayNanos", "20000");
    }

    @Test
    void aOneMiBWriteShardedOverTwoNicsLandsWithOneImmPerShard() {
        ConformanceFixture f = fixture(2);
        GuardedBuffer srcBuf = f.buffer(MIB + 64 * KIB);
        GuardedBuffer dstBuf = f.buffer(2 * MIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        SingleWrite w = SingleWrite.withImm(src, 4096, MIB, dst, 300_000, imm);
        assertEquals(2, imms(w, 2), "ImmAccounting: one imm per shard, however many pieces a shard takes");
        dstBuf.expectCopy(srcBuf, 4096, 300_000, MIB);
        new Delivery("1 MiB over 2 NICs [seed " + f.seed + "]", imm).submit(w).expectImms(f.b, 2)
                .check(srcBuf, dstBuf).run(f.a);
    }

    @Test
    void unevenWritesOverFourNicsToOneAndPinnedWritesWithAndWithoutImm() {
        ConformanceFixture f = fixture(4, 1);
        GuardedBuffer srcBuf = f.buffer(MIB);
        GuardedBuffer dstBuf = f.buffer(3 * MIB);
        GuardedBuffer plainBuf = f.buffer(MIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        RemoteRegion plain = f.register(f.b, plainBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        Delivery d = new Delivery("uneven split writes [seed " + f.seed + "]", imm).check(srcBuf, dstBuf);
        List<SingleWrite> writes = List.of(
                SingleWrite.withImm(src, 7, MIB - 20, dst, 13, imm), // 4 shards, each several pieces, odd ends
                new SingleWrite(src, 1, LIMIT + 1, dst, MIB + 3, OptionalInt.of(imm), Routing.pinned(2)), // 2 pieces
                new SingleWrite(src, 0, 3 * LIMIT, dst, 2 * MIB, OptionalInt.of(imm), Routing.sharded(2)));
        long expected = 0;
        for (SingleWrite w : writes) {
            dstBuf.expectCopy(srcBuf, w.srcOffset(), w.dstOffset(), w.length());
            d.submit(w);
            expected += imms(w, 4);
        }
        assertEquals(4 + 1 + 2, expected);
        d.expectImms(f.b, expected).run(f.a);
        // Without imm: checked by polling the bytes.
        plainBuf.expectCopy(srcBuf, 100, 9, 5 * LIMIT + 5);
        new Delivery("split write without imm [seed " + f.seed + "]", imm)
                .submit(new SingleWrite(src, 100, 5 * LIMIT + 5, plain, 9, OptionalInt.empty(), Routing.pinned(3)))
                .check(srcBuf, plainBuf).run(f.a);
    }

    @Test
    void pagedWritesWithPagesLargerThanTheLimit() {
        ConformanceFixture f = fixture(2);
        GuardedBuffer srcBuf = f.buffer(MIB);
        GuardedBuffer dstBuf = f.buffer(2 * MIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        long page = 100_000; // two pieces per page: 64 KiB and the rest
        long srcStride = 110_000;
        long dstStride = 120_000;
        int[] srcPages = {3, 0, 8, 8, 5, 1, 2};
        int[] dstPages = {0, 9, 4, 2, 7, 15, 11};
        for (int i = 0; i < srcPages.length; i++) {
            dstBuf.expectCopy(srcBuf, 50 + srcStride * srcPages[i], 70 + dstStride * dstPages[i], page);
        }
        PagedWrite w = new PagedWrite(page, src, srcPages, srcStride, 50, dst, dstPages, dstStride, 70,
                OptionalInt.of(imm));
        assertEquals(7, imms(w, 2), "one imm per page");
        new Delivery("paged, pages > limit [seed " + f.seed + "]", imm).submit(w).expectImms(f.b, 7)
                .check(srcBuf, dstBuf).run(f.a);
    }

    @Test
    void scattersWithTargetsLargerThanTheLimit() {
        for (ScatterRouting routing : List.of(ScatterRouting.SHARD_PEERS, ScatterRouting.SHARD_BYTES,
                ScatterRouting.pinned(1))) {
            ConformanceFixture f = fixture(2);
            GuardedBuffer srcBuf = f.buffer(MIB);
            GuardedBuffer b1 = f.buffer(MIB);
            GuardedBuffer c1 = f.buffer(MIB);
            MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
            RemoteRegion onB = f.register(f.b, b1, Access.REMOTE_WRITE).descriptor();
            RemoteRegion onC = f.register(f.c(), c1, Access.REMOTE_WRITE).descriptor();
            long[] lengths = {200_001, LIMIT + 1, 3, 3L * LIMIT, 0, 150_000};
            List<ScatterTarget> toB = new ArrayList<>();
            List<ScatterTarget> toC = new ArrayList<>();
            long dstB = 0;
            long dstC = 0;
            for (int i = 0; i < lengths.length; i++) {
                long srcOffset = 1000L * i;
                if (i % 2 == 0) {
                    b1.expectCopy(srcBuf, srcOffset, dstB + 11, lengths[i]);
                    toB.add(new ScatterTarget(onB, lengths[i], srcOffset, dstB + 11));
                    dstB += lengths[i] + 11;
                } else {
                    c1.expectCopy(srcBuf, srcOffset, dstC + 5, lengths[i]);
                    toC.add(new ScatterTarget(onC, lengths[i], srcOffset, dstC + 5));
                    dstC += lengths[i] + 5;
                }
            }
            List<ScatterTarget> all = new ArrayList<>(toB);
            all.addAll(toC);
            int imm = nextImm();
            OptionalInt i = OptionalInt.of(imm);
            new Delivery("scatter " + routing + " [seed " + f.seed + "]", imm)
                    .submit(new Scatter(src, all, i, routing))
                    .expectImms(f.b, imms(new Scatter(src, toB, i, routing), 2))
                    .expectImms(f.c(), imms(new Scatter(src, toC, i, routing), 2))
                    .check(srcBuf, b1, c1)
                    .run(f.a);
        }
    }

    @Test
    void manySplitWritesInFlightAreBackPressuredNotLost() {
        ConformanceFixture f = fixture(1);
        GuardedBuffer srcBuf = f.buffer(2 * LIMIT + 100);
        GuardedBuffer dstBuf = f.buffer(2 * LIMIT + 100);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter imms = f.b.immCounter(imm);
        TransferCounter done = f.a.newTransferCounter();
        int writes = 1000; // more than the 256 split writes a NIC keeps in flight
        dstBuf.expectCopy(srcBuf, 0, 0, 2 * LIMIT + 100);
        for (int k = 0; k < writes; k++) {
            f.a.submit(SingleWrite.withImm(src, 0, 2 * LIMIT + 100, dst, 0, imm), done);
        }
        done.await(writes, Waits.DEADLINE);
        done.throwIfFailed();
        imms.await(writes, Waits.DEADLINE);
        assertEquals(writes, imms.arrived());
        dstBuf.assertMatches("back-pressured split writes");
    }

    /**
     * Every 5th piece fails (nothing written). A split write whose piece failed fails once and never sends its imm,
     * so the receiver counts exactly one imm per write that succeeded: an imm piece posted before the other
     * pieces completed would be counted for failed writes too.
     */
    @Test
    void aFailedPieceFailsItsWriteOnceAndItsImmIsNeverSent() {
        long seed = 5;
        ConformanceFixture f = new ConformanceFixture(n -> newEngineBuilder(n)
                .providerOption("loopback.failEveryNth", "5"), "split-fail", 1, 1, seed);
        fixtures.add(f);
        int length = 2 * LIMIT + 100; // three pieces
        GuardedBuffer srcBuf = f.buffer(length);
        GuardedBuffer dstBuf = f.buffer(length);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter imms = f.b.immCounter(imm);
        java.util.concurrent.atomic.AtomicInteger succeeded = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        TransferCallback callback = TransferCallback.of(succeeded::incrementAndGet, e -> failed.incrementAndGet());
        int writes = 300;
        for (int k = 0; k < writes; k++) {
            f.a.submit(SingleWrite.withImm(src, 0, length, dst, 0, imm), callback);
        }
        Waits.until(() -> succeeded.get() + failed.get() == writes,
                () -> succeeded.get() + " succeeded, " + failed.get() + " failed of " + writes);
        assertTrue(failed.get() > 0 && succeeded.get() > 0, succeeded.get() + " succeeded, " + failed.get() + " failed");
        imms.await(succeeded.get(), Waits.DEADLINE);
        // The flush is a write too, and every 5th write fails by injection: try until one goes through.
        for (int attempt = 1; ; attempt++) {
            try {
                flush(f);
                break;
            } catch (AssertionError injected) {
                if (attempt == 10) {
                    throw injected;
                }
            }
        }
        assertEquals(succeeded.get(), imms.arrived(), "one imm per successful write, none for a failed one");
    }

    @Test
    void sendsAndReceiveBuffersKeepTheProvidersLimit() {
        ConformanceFixture f = fixture(2);
        GuardedBuffer srcBuf = f.buffer(2 * LIMIT);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        assertInvalid(() -> f.a.send(f.b.mainAddress(), src, 0, LIMIT + 1), "a send over the limit");
        assertInvalid(() -> f.b.postReceives(LIMIT + 1, 1, m -> { }), "a receive buffer over the limit");
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        f.b.postReceives(LIMIT, 1, m -> received.set(m.byteSize()));
        Waits.get(f.a.send(f.b.mainAddress(), src, 0, LIMIT), "a send of exactly the limit");
        Waits.until(() -> received.get() == LIMIT, () -> "the message");
    }
}
