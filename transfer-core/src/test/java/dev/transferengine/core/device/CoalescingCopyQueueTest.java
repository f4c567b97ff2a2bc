package dev.transferengine.core.device;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceCopyQueue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Contiguous copies of the same two owners go out as one launch; anything else breaks the run; where the inner
 * queue has a batch launch, the short runs held in a poll go out as one batch; tickets stay one per copy and a
 * ticket is done only when its launch and every earlier one finished.
 */
class CoalescingCopyQueueTest {
    private static final Object SRC = new Object();
    private static final Object DST = new Object();

    private final StripedCopyQueueTest.ManualLane inner = new StripedCopyQueueTest.ManualLane();
    private final CoalescingCopyQueue queue = new CoalescingCopyQueue(inner, 64, true, 1 << 20);

    @Test
    void pagesInOrderGoOutAsOneLaunchAtTheEndOfThePoll() {
        for (int page = 0; page < 8; page++) {
            assertEquals(page, queue.copy(0x10_0000 + page * 8192L, 0x90_0000 + page * 8192L, 8192, SRC, DST));
        }
        assertEquals(0, inner.launches.size(), "held until the poll ends");
        queue.flush();
        assertEquals(1, inner.launches.size());
        assertEquals(List.of(0x10_0000L, 0x90_0000L, 8L * 8192), List.of(inner.launches.get(0)[0],
                inner.launches.get(0)[1], inner.launches.get(0)[2]));
        assertFalse(queue.isDone(0));
        assertFalse(queue.isDone(7));
        inner.finishedThrough = 0;
        for (int page = 0; page < 8; page++) {
            assertTrue(queue.isDone(page), "every page of the launch is done with it");
        }
        assertEquals(0, queue.outstanding());
    }

    @Test
    void aGapAnotherOwnerOrTheLengthCapBreaksTheRun() {
        Object otherSrc = new Object();
        queue.copy(0x1000, 0x9000, 4096, SRC, DST);         // run 1
        queue.copy(0x2000, 0xA000, 4096, SRC, DST);         // extends run 1
        queue.copy(0x4000, 0xC000, 4096, SRC, DST);         // a gap: run 2
        queue.copy(0x5000, 0xD000, 4096, otherSrc, DST);    // contiguous, but another source allocation: run 3
        queue.copy(0x6000, 0xF000, 4096, otherSrc, DST);    // the source does not follow: run 4
        queue.copy(0x100000, 0x200000, 1 << 20, SRC, DST);  // run 5, at the cap already
        queue.copy(0x200000, 0x300000, 4096, SRC, DST);     // would pass the cap: run 6
        queue.copy(0x300000, 0x400000, 4096, SRC, DST);     // a plain copy is never merged: run 7
        queue.flush();
        List<Long> lengths = inner.launches.stream().map(l -> l[2]).toList();
        assertEquals(List.of(8192L, 4096L, 4096L, 4096L, 1L << 20, 4096L), lengths.subList(0, 6));
        assertEquals(7, inner.launches.size());
    }

    @Test
    void aQueueThatDoesNotMergeLaunchesEveryCopyAsItComes() {
        CoalescingCopyQueue off = new CoalescingCopyQueue(inner, 64, false, 1 << 20);
        off.copy(0x1000, 0x9000, 4096, SRC, DST);
        off.copy(0x2000, 0xA000, 4096, SRC, DST);
        assertEquals(2, inner.launches.size());
        assertFalse(off.hasPendingRun());
    }

    @Test
    void aPlainCopyLaunchesThePendingRunFirstSoTheOrderHolds() {
        queue.copy(0x1000, 0x9000, 4096, SRC, DST);
        long plain = queue.copy(0x7000, 0x8000, 64);
        assertEquals(1, plain);
        assertEquals(2, inner.launches.size());
        assertEquals(0x1000, inner.launches.get(0)[0], "the held copy went out before the plain one");
        inner.finishedThrough = 0;
        assertTrue(queue.isDone(0));
        assertFalse(queue.isDone(1));
    }

    @Test
    void askingAboutAHeldTicketLaunchesItsRun() {
        long t = queue.copy(0x1000, 0x9000, 4096, SRC, DST);
        assertFalse(queue.isDone(t));
        assertEquals(1, inner.launches.size(), "isDone launched the run it asked about");
        inner.finishedThrough = 0;
        assertTrue(queue.isDone(t));
    }

    @Test
    void aFullInnerQueueKeepsTheRunPendingAndNothingIsLost() {
        inner.capacity = 1;
        queue.copy(0x1000, 0x9000, 4096, SRC, DST);
        queue.flush();
        long second = queue.copy(0x8000, 0x9000, 4096, SRC, DST); // not contiguous: run 2, held
        queue.flush();                                            // the inner queue is full: still held
        assertEquals(1, inner.launches.size());
        assertEquals(DeviceCopyQueue.FULL, queue.copy(0x20000, 0x30000, 4096, SRC, DST),
                "a copy that needs the held run launched first is refused while the inner queue is full");
        assertFalse(queue.isDone(second));
        inner.finishedThrough = 0;
        assertFalse(queue.isDone(second), "launched now, not finished");
        assertEquals(2, inner.launches.size());
        inner.finishedThrough = 1;
        assertTrue(queue.isDone(second));
    }

    @Test
    void ticketsOutstandingAreBoundedAndClosingDropsTheHeldRun() {
        CoalescingCopyQueue small = new CoalescingCopyQueue(inner, 4, true, 1 << 20);
        for (int i = 0; i < 4; i++) {
            assertEquals(i, small.copy(0x1000 + i * 64L, 0x9000 + i * 64L, 64, SRC, DST));
        }
        assertEquals(DeviceCopyQueue.FULL, small.copy(0x1100, 0x9100, 64, SRC, DST));
        assertEquals(DeviceCopyQueue.FULL, small.copy(0x1100, 0x9100, 64), "plain copies count too");
        assertEquals(4, small.outstanding());
        small.flush();
        inner.finishedThrough = 0;
        assertEquals(4, small.copy(0x5000, 0x6000, 64), "finished copies make room without a completion check");
        assertEquals(5, small.copy(0x5040, 0x6040, 64, SRC, DST), "and the next one is held again");
        small.close();
        assertTrue(inner.closed);
        assertEquals(2, inner.launches.size(), "a closing owner reports nothing more: the held run is dropped");
        assertThrows(InvalidRequestException.class, () -> queue.isDone(0), "never issued");
        assertThrows(InvalidRequestException.class, () -> new CoalescingCopyQueue(inner, 0, true, 1));
    }

    /**
     * A queue over an inner queue with a batch launch of {@code maxBatch}; runs up to 256 KiB are batched, on the
     * device or not.
     */
    private CoalescingCopyQueue batching(int maxBatch) {
        inner.maxBatch = maxBatch;
        return new CoalescingCopyQueue(inner, 64, true, 1 << 20, 256 << 10, 256 << 10);
    }

    @Test
    void unrelatedShortCopiesOfAPollGoOutAsOneBatchUnderOneInnerTicket() {
        CoalescingCopyQueue q = batching(16);
        for (int i = 0; i < 8; i++) { // half pages, every other one: no two contiguous
            assertEquals(i, q.copy(0x10_0000 + i * 16384L, 0x90_0000 + i * 16384L, 8192, SRC, DST));
        }
        assertEquals(0, inner.launches.size(), "held until the poll ends");
        q.flush();
        assertEquals(1, inner.launches.size(), "one launch");
        long[] batch = inner.launches.get(0);
        assertEquals(24, batch.length, "eight copies in it");
        for (int i = 0; i < 8; i++) {
            assertEquals(List.of(0x10_0000 + i * 16384L, 0x90_0000 + i * 16384L, 8192L),
                    List.of(batch[3 * i], batch[3 * i + 1], batch[3 * i + 2]), "copy " + i);
        }
        assertFalse(q.isDone(7));
        inner.finishedThrough = 0;
        for (int i = 0; i < 8; i++) {
            assertTrue(q.isDone(i), "every copy is done with the batch");
        }
    }

    @Test
    void aLongRunGoesOutOnItsOwnAsSoonAsItEndsAfterTheShortOnesBeforeIt() {
        CoalescingCopyQueue q = batching(16);
        q.copy(0x1000, 0x9000, 4096, SRC, DST);                 // ticket 0, short run
        q.copy(0x8000, 0x18000, 4096, SRC, DST);                // ticket 1, short run
        q.copy(0x100000, 0x500000, 512 << 10, SRC, DST);        // ticket 2, a long run (over 256 KiB)
        assertEquals(0, inner.launches.size(), "the long run may still grow");
        q.copy(0x300000, 0x700000, 4096, SRC, DST);             // ticket 3: ends the long run
        assertEquals(2, inner.launches.size(), "the short runs as a batch, then the long run alone");
        assertEquals(6, inner.launches.get(0).length);
        assertEquals(List.of(0x100000L, 0x500000L, 512L << 10), List.of(inner.launches.get(1)[0],
                inner.launches.get(1)[1], inner.launches.get(1)[2]));
        q.flush();
        assertEquals(3, inner.launches.size(), "the last short run at the end of the poll");
        assertEquals(3, inner.launches.get(2).length);
        inner.finishedThrough = 1;
        assertTrue(q.isDone(2));
        assertFalse(q.isDone(3));
    }

    @Test
    void heldRunsAreLaunchedWhenNoRoomForAnotherIsLeft() {
        CoalescingCopyQueue q = batching(4);
        for (int i = 0; i < 5; i++) {
            q.copy(0x1000 + i * 0x2000L, 0x90000 + i * 0x2000L, 64, SRC, DST);
        }
        assertEquals(1, inner.launches.size(), "the fifth run needed room: the first four went out");
        assertEquals(12, inner.launches.get(0).length);
        q.flush();
        assertEquals(2, inner.launches.size());
        assertEquals(3, inner.launches.get(1).length, "one run left: a plain copy");
    }

    @Test
    void aFullInnerQueueStopsALaunchMidwayAndTheRestFollowsInTicketOrder() {
        CoalescingCopyQueue q = batching(16);
        inner.capacity = 1;
        q.copy(0x1000, 0x9000, 4096, SRC, DST);                 // 0
        q.copy(0x8000, 0x18000, 4096, SRC, DST);                // 1
        q.copy(0x100000, 0x500000, 512 << 10, SRC, DST);        // 2, long
        assertEquals(DeviceCopyQueue.FULL, q.copy(0x300000, 0x700000, 4096, SRC, DST),
                "ending the long run launches 0-1 as a batch, then finds no room for the long run");
        assertEquals(1, inner.launches.size());
        assertFalse(q.isDone(2), "held");
        inner.finishedThrough = 0;
        assertTrue(q.isDone(1), "the batch finished");
        assertFalse(q.isDone(2), "launched now, not finished");
        assertEquals(2, inner.launches.size());
        assertEquals(3, q.copy(0x300000, 0x700000, 4096, SRC, DST), "the refused copy again: held");
        q.flush();
        assertEquals(2, inner.launches.size(), "no room while the long run runs");
        inner.finishedThrough = 1;
        assertTrue(q.isDone(2));
        assertFalse(q.isDone(3), "launched now");
        assertEquals(3, inner.launches.size());
        inner.finishedThrough = 2;
        assertTrue(q.isDone(3));
        assertEquals(0, q.outstanding());
    }

    @Test
    void copiesWhollyOnTheDeviceShareBatchesOnlyWithEachOtherAndSaySo() {
        CoalescingCopyQueue q = batching(16);
        q.copy(0x1000, 0x9000, 4096, SRC, DST, true);
        q.copy(0x8000, 0x18000, 4096, SRC, DST, true);
        q.copy(0x9000, 0x19000, 4096, SRC, DST, false);          // contiguous, but may touch host memory: a new run
        q.copy(0x20000, 0x30000, 4096, SRC, DST, false);
        q.copy(0x40000, 0x50000, 4096, SRC, DST, true);
        q.flush();
        assertEquals(List.of(6, 6, 3), inner.launches.stream().map(l -> l.length).toList(),
                "two on the device, two maybe not, one on the device (a single copy)");
        assertEquals(List.of(true, false), inner.batchOnDevice);
    }

    @Test
    void writesOfAMebibyteWhollyOnTheDeviceAreBatchedAndThoseThatMayTouchHostMemoryAreNot() {
        inner.maxBatch = 16;
        CoalescingCopyQueue q = new CoalescingCopyQueue(inner, 64, true, 4 << 20, 256 << 10, 1 << 20);
        long mib = 1 << 20;
        for (int i = 0; i < 4; i++) { // every other MiB: no two contiguous
            q.copy(0x1000_0000L + 2 * i * mib, 0x2000_0000L + 2 * i * mib, mib, SRC, DST, true);
        }
        q.flush();
        assertEquals(1, inner.launches.size(), "four 1 MiB device copies, one batch");
        assertEquals(12, inner.launches.get(0).length);
        assertEquals(List.of(true), inner.batchOnDevice);
        for (int i = 0; i < 4; i++) {
            q.copy(0x3000_0000L + 2 * i * mib, 0x4000_0000L + 2 * i * mib, mib, SRC, DST, false);
        }
        q.flush();
        assertEquals(List.of(12, 3, 3, 3, 3), inner.launches.stream().map(l -> l.length).toList(),
                "1 MiB copies that may touch host memory: one launch each (over the 256 KiB limit)");
        q.copy(0x5000_0000L, 0x6000_0000L, mib + 16, SRC, DST, true);
        q.copy(0x5800_0000L, 0x6800_0000L, mib + 16, SRC, DST, true);
        q.flush();
        assertEquals(7, inner.launches.size(), "over 1 MiB even on the device: one launch each");
        assertEquals(List.of(true), inner.batchOnDevice, "no further batch");
    }

    @Test
    void aLaunchTheDeviceRefusesReachesTheCopiesOwnersNotThePollThatFlushed() {
        CoalescingCopyQueue q = batching(16);
        long a = q.copy(0x1000, 0x9000, 4096, SRC, DST, true);
        long b = q.copy(0x8000, 0x18000, 4096, SRC, DST, true);
        inner.refuse = new dev.transferengine.api.TransferException(dev.transferengine.api.ErrorCategory.PROVIDER,
                "test: launch refused");
        q.flush(); // does not throw: the poll goes on
        assertTrue(q.hasPendingRun(), "the runs stay held");
        assertThrows(dev.transferengine.api.TransferException.class, () -> q.isDone(a), "the owner of a hears it");
        inner.refuse = null;
        assertFalse(q.isDone(b), "launched once the device takes it");
        assertEquals(1, inner.launches.size());
        inner.finishedThrough = 0;
        assertTrue(q.isDone(a) && q.isDone(b));
    }
}
