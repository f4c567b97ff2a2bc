package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Held requests (issue 9, verbs): what a retired queue pair never executed is copied out of its native ring and
 * appended to another ring unchanged. Host only: nothing here reaches libibverbs (no {@code flush}).
 */
class HeldRequestsTest {
    private static SendQueue queue(int owner, SendBudget budget) {
        return new SendQueue(MemorySegment.NULL, MemorySegment.NULL, owner, 8, 4, budget);
    }

    @Test
    void unpostedRequestsMoveToAnotherRingWithEveryFieldIntact() {
        SendBudget budget = new SendBudget(100);
        SendQueue broken = queue(1, budget);
        broken.appendWrite(101, 11, 0x1000, 16384, 0x2000, 0x77, true, 0x12345678);
        broken.appendWrite(102, 12, 0x5000, 0, 0x6000, 0x78, false, 0);
        broken.appendSend(103, 13, 0x9000, 512);
        assertEquals(3, budget.outstanding());

        HeldRequests held = new HeldRequests();
        assertEquals(3, broken.holdUnposted(held));
        assertEquals(0, broken.outstanding());
        assertFalse(broken.hasUnposted());
        assertEquals(0, budget.outstanding(), "held requests do not count against the send budget");

        SendQueue fresh = queue(2, budget);
        while (!held.isEmpty()) {
            fresh.appendHeld(held);
        }
        assertEquals(3, fresh.outstanding());
        assertEquals(3, budget.outstanding());

        HeldRequests again = new HeldRequests();
        fresh.holdUnposted(again);
        assertEquals(3, again.size());
        assertRequest(again, 101, Ibv.IBV_WR_RDMA_WRITE_WITH_IMM, 11, 0x1000, 16384, 0x2000, 0x77,
                Integer.reverseBytes(0x12345678));
        again.removeFirst();
        assertRequest(again, 102, Ibv.IBV_WR_RDMA_WRITE, 12, 0x5000, 0, 0x6000, 0x78, 0);
        again.removeFirst();
        assertTrue(again.nextIsSend());
        assertEquals(103, again.nextContext());
        assertEquals(0x9000, again.nextSource());
        assertEquals(512, again.nextLength());
        assertEquals(13, again.nextLkey());
        again.removeFirst();
        assertTrue(again.isEmpty());
    }

    private static void assertRequest(HeldRequests h, long context, int opcode, int lkey, long source, int length,
                                      long remote, int rkey, int rawImm) {
        assertEquals(context, h.nextContext());
        assertEquals(opcode, h.nextOpcode());
        assertEquals(lkey, h.nextLkey());
        assertEquals(source, h.nextSource());
        assertEquals(length, h.nextLength());
        assertEquals(remote, h.nextRemoteAddress());
        assertEquals(rkey, h.nextRkey());
        assertEquals(rawImm, h.nextRawImm());
        assertFalse(h.nextIsSend());
    }

    @Test
    void firstInFirstOutAcrossGrowthAndCompaction() {
        HeldRequests h = new HeldRequests();
        long nextOut = 0;
        long nextIn = 0;
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < 13; i++, nextIn++) {
                h.add(nextIn, Ibv.IBV_WR_RDMA_WRITE, (int) nextIn, nextIn * 2, (int) nextIn, nextIn * 3, 7, 9);
            }
            for (int i = 0; i < 9; i++, nextOut++) {
                assertEquals(nextOut, h.nextContext());
                assertEquals(nextOut * 3, h.nextRemoteAddress());
                h.removeFirst();
            }
        }
        assertEquals(nextIn - nextOut, h.size());
        while (!h.isEmpty()) {
            assertEquals(nextOut++, h.nextContext());
            h.removeFirst();
        }
        assertEquals(nextIn, nextOut);
    }

    @Test
    void failAllReportsEachHeldContextOnceWithTheError() {
        HeldRequests h = new HeldRequests();
        for (long c = 1; c <= 20; c++) {
            h.add(c, Ibv.IBV_WR_RDMA_WRITE_WITH_IMM, 0, 0, 0, 0, 0, 0);
        }
        h.removeFirst();
        TransferException error = new TransferException(ErrorCategory.PEER_UNREACHABLE, "reconnect failed");
        List<Long> failed = new ArrayList<>();
        List<TransferException> errors = new ArrayList<>();
        CompletionSink sink = new CompletionSink() {
            @Override
            public void onComplete(long context) {
                throw new AssertionError("completed " + context);
            }

            @Override
            public void onReceive(long context, long lengthBytes) {
                throw new AssertionError("received " + context);
            }

            @Override
            public void onError(long context, TransferException e) {
                failed.add(context);
                errors.add(e);
            }

            @Override
            public void onImm(int imm) {
                throw new AssertionError("imm " + imm);
            }
        };
        assertEquals(19, h.failAll(error, sink));
        assertEquals(19, failed.size());
        for (int i = 0; i < 19; i++) {
            assertEquals(i + 2L, failed.get(i));
            assertSame(error, errors.get(i));
        }
        assertTrue(h.isEmpty());
        assertEquals(0, h.failAll(error, sink));
    }
}
