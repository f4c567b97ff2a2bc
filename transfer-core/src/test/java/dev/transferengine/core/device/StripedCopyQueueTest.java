package dev.transferengine.core.device;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.Availability;

import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.testing.HostDeviceBackend;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Copies dealt over several streams keep the single-queue contract: a ticket is done only with all before it. */
class StripedCopyQueueTest {
    /** A lane whose copies finish only when the test says so, in order; records what it was given. */
    static final class ManualLane implements DeviceCopyQueue {
        final List<Long> destinations = new ArrayList<>();
        /** Each launch as {destination, source, length} (a batch: one such triple per copy), in order. */
        final List<long[]> launches = new ArrayList<>();
        long finishedThrough = -1;
        int capacity = 1000;
        /** Copies one batch launch takes (1: no batch launch). */
        int maxBatch = 1;
        /** Each batch launch's {@code onDevice}, in order. */
        final List<Boolean> batchOnDevice = new ArrayList<>();
        /** Thrown by every launch while set (a device that refuses). */
        RuntimeException refuse;
        boolean closed;

        @Override
        public int maxBatch() {
            return maxBatch;
        }

        @Override
        public long copyBatch(long[] destinations, long[] sources, long[] lengths, int count,
                              boolean onDevice) {
            DeviceCopyQueue.requireBatch(count, maxBatch);
            if (refuse != null) {
                throw refuse;
            }
            if (outstanding() == capacity) {
                return FULL;
            }
            this.destinations.add(destinations[0]);
            launches.add(HostDeviceBackend.triples(destinations, sources, lengths, count));
            batchOnDevice.add(onDevice);
            return this.destinations.size() - 1;
        }

        @Override
        public long copy(long destination, long source, long lengthBytes) {
            if (refuse != null) {
                throw refuse;
            }
            if (outstanding() == capacity) {
                return FULL;
            }
            destinations.add(destination);
            launches.add(new long[] {destination, source, lengthBytes});
            return destinations.size() - 1;
        }

        @Override
        public boolean isDone(long ticket) {
            return ticket <= finishedThrough;
        }

        @Override
        public int outstanding() {
            return (int) (destinations.size() - 1 - finishedThrough);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** A backend whose queues are {@link ManualLane}s. */
    static final class ManualBackend implements DeviceBackend {
        final List<ManualLane> lanes = new ArrayList<>();

        @Override
        public String name() {
            return "manual";
        }

        @Override
        public Availability availability() {
            return Availability.yes();
        }

        @Override
        public int deviceCount() {
            return 1;
        }

        @Override
        public DeviceBackend.DeviceAllocation checkRange(int ordinal, long address, long lengthBytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MemorySegment allocatePinnedHost(long bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void freePinnedHost(MemorySegment pinned) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int exportDmabuf(long address, long lengthBytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public DeviceCopyQueue openCopyQueue(int ordinal) {
            ManualLane l = new ManualLane();
            lanes.add(l);
            return l;
        }
    }

    @Test
    void copiesAreDealtRoundRobinAndDoneOnlyInTicketOrder() {
        ManualBackend backend = new ManualBackend();
        DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 3);
        assertEquals(3, backend.lanes.size());
        for (long t = 0; t < 7; t++) {
            assertEquals(t, q.copy(1000 + t, 0, 8), "tickets count every copy");
        }
        assertEquals(List.of(1000L, 1003L, 1006L), backend.lanes.get(0).destinations);
        assertEquals(List.of(1001L, 1004L), backend.lanes.get(1).destinations);
        assertEquals(List.of(1002L, 1005L), backend.lanes.get(2).destinations);
        assertEquals(7, q.outstanding());

        backend.lanes.get(1).finishedThrough = 1; // tickets 1 and 4 finished, but 0 has not
        assertFalse(q.isDone(1), "a later copy on another stream does not make an earlier one done");
        assertFalse(q.isDone(4));
        backend.lanes.get(0).finishedThrough = 0; // ticket 0
        assertTrue(q.isDone(1));
        assertFalse(q.isDone(2), "ticket 2's stream has not finished it");
        backend.lanes.get(2).finishedThrough = 0; // ticket 2
        assertTrue(q.isDone(2));
        assertFalse(q.isDone(3));
        backend.lanes.get(0).finishedThrough = 1; // ticket 3
        assertTrue(q.isDone(4), "3 and 4 done now");
        assertEquals(2, q.outstanding());
        assertThrows(InvalidRequestException.class, () -> q.isDone(7), "never issued");
        assertThrows(InvalidRequestException.class, () -> q.isDone(-1));
        q.close();
        assertTrue(backend.lanes.stream().allMatch(l -> l.closed), "every stream closed");
    }

    @Test
    void aBatchGoesToOneStreamUnderOneTicketAndKeepsTheTicketOrder() {
        ManualBackend backend = new ManualBackend();
        DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 2);
        backend.lanes.forEach(l -> l.maxBatch = 4);
        assertEquals(4, q.maxBatch());
        assertEquals(0, q.copy(1000, 0, 8));
        assertEquals(1, q.copyBatch(new long[] {2000, 3000, 4000}, new long[] {1, 2, 3}, new long[] {8, 8, 8}, 3,
                true));
        assertEquals(2, q.copy(5000, 0, 8));
        assertEquals(List.of(1000L, 5000L), backend.lanes.get(0).destinations);
        assertEquals(1, backend.lanes.get(1).launches.size(), "the whole batch on stream 1, as one launch");
        assertEquals(9, backend.lanes.get(1).launches.get(0).length);
        assertEquals(List.of(true), backend.lanes.get(1).batchOnDevice, "onDevice passed through");
        backend.lanes.get(1).finishedThrough = 0;
        assertFalse(q.isDone(1), "the batch finished, but copy 0 before it has not");
        backend.lanes.get(0).finishedThrough = 0;
        assertTrue(q.isDone(1));
        assertFalse(q.isDone(2));
        assertThrows(InvalidRequestException.class,
                () -> q.copyBatch(new long[5], new long[5], new long[5], 5, false), "more than a stream takes");
        assertThrows(InvalidRequestException.class, () -> q.copyBatch(new long[1], new long[1], new long[1], 0, false));
        assertEquals(3, q.copy(6000, 0, 8), "refused batches took no ticket");
    }

    @Test
    void aFullStreamAnswersFullAndTheNextCopyGoesToTheSameStream() {
        ManualBackend backend = new ManualBackend();
        DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 2);
        backend.lanes.get(0).capacity = 1;
        assertEquals(0, q.copy(1, 0, 8));
        assertEquals(1, q.copy(2, 0, 8));
        assertEquals(DeviceCopyQueue.FULL, q.copy(3, 0, 8), "stream 0 is full");
        backend.lanes.get(0).finishedThrough = 0;
        assertEquals(2, q.copy(3, 0, 8), "the ticket was not used up by the refusal");
        assertEquals(List.of(1L, 3L), backend.lanes.get(0).destinations);
    }

    @Test
    void theTrackedWindowIsBoundedAndFreedAsCopiesFinish() {
        ManualBackend backend = new ManualBackend();
        DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 2);
        int n = 0;
        while (q.copy(n, 0, 8) != DeviceCopyQueue.FULL) {
            n++;
        }
        assertEquals(512, n, "256 per stream");
        backend.lanes.get(0).finishedThrough = 0;
        assertTrue(q.copy(n, 0, 8) >= 0, "the oldest finished: room again");
    }

    @Test
    void oneStreamIsTheBackendsOwnQueueAndBadCountsAreRefused() {
        ManualBackend backend = new ManualBackend();
        DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 1);
        assertSame(backend.lanes.get(0), q);
        assertThrows(InvalidRequestException.class, () -> StripedCopyQueue.open(backend, 0, 0));
        assertThrows(InvalidRequestException.class, () -> StripedCopyQueue.open(backend, 0, 17));
        assertEquals(1, backend.lanes.size(), "nothing opened for a refused count");
    }

    /** Through the lazy host double (copies happen when asked twice): the bytes of every copy arrive. */
    @Test
    void bytesLandThroughTheHostDouble() {
        HostDeviceBackend backend = new HostDeviceBackend(1);
        long src = backend.allocate(0, 64 * 100);
        long dst = backend.allocate(0, 64 * 100);
        MemorySegment s = MemorySegment.ofAddress(src).reinterpret(6400);
        for (int i = 0; i < 6400; i++) {
            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        try (DeviceCopyQueue q = StripedCopyQueue.open(backend, 0, 4)) {
            long last = -1;
            for (int i = 0; i < 100; i++) {
                long t;
                while ((t = q.copy(dst + i * 64L, src + i * 64L, 64)) == DeviceCopyQueue.FULL) {
                    q.isDone(q.outstanding() > 0 ? last - q.outstanding() + 1 : last);
                }
                last = t;
            }
            while (!q.isDone(last)) {
                Thread.onSpinWait();
            }
        }
        assertEquals(-1, s.mismatch(MemorySegment.ofAddress(dst).reinterpret(6400)));
    }
}
