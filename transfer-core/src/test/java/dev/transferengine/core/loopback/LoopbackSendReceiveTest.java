package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.loopback.Fixture.Endpoint;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackSendReceiveTest {
    private final Fixture fixture = new Fixture(2);
    private final Endpoint sender = fixture.get(0);
    private final Endpoint receiver = fixture.get(1);
    private final MemorySegment src = fixture.segment(64, 1);
    private final MemorySegment buffers = fixture.segment(256, 150);
    private final byte[] buffersBefore = buffers.toArray(ValueLayout.JAVA_BYTE);
    private final RegisteredMemory local = Fixture.register(sender, src);
    private final RegisteredMemory receiveMemory = receiver.domain().register(buffers, false);

    @AfterEach
    void close() {
        fixture.close();
    }

    private int send(long offset, long length, long context) {
        return sender.domain().postSend(sender.peer(receiver), local, src.address() + offset, length, context);
    }

    private int receive(long offset, long length, long context) {
        return receiver.domain().postReceive(receiveMemory, buffers.address() + offset, length, context);
    }

    /** The receives in delivery order, as (context, length) pairs. */
    private static void assertReceived(java.util.Map<Long, Long> received, long... contextLengthPairs) {
        java.util.Map<Long, Long> expected = new java.util.LinkedHashMap<>();
        for (int i = 0; i < contextLengthPairs.length; i += 2) {
            expected.put(contextLengthPairs[i], contextLengthPairs[i + 1]);
        }
        assertEquals(List.copyOf(expected.entrySet()), List.copyOf(received.entrySet()));
    }

    @Test
    void aSendFillsThePostedReceive() {
        assertEquals(ProviderDomain.POSTED, receive(100, 64, 500));
        assertEquals(ProviderDomain.POSTED, send(3, 10, 1));
        fixture.pollUntil(() -> receiver.sink().received.size() == 1 && sender.sink().outcomes() == 1, "one message");

        assertEquals(List.of(1L), sender.sink().completed);
        assertReceived(receiver.sink().received, 500, 10);
        byte[] expected = buffersBefore.clone();
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, 3, expected, 100, 10);
        assertArrayEquals(expected, buffers.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aSendPostedBeforeTheReceiveWaitsForIt() {
        send(0, 8, 1);
        for (int i = 0; i < 100; i++) {
            sender.poll();
            receiver.poll();
        }
        assertEquals(0, sender.sink().events() + receiver.sink().events(), "nothing can happen without a receive");

        receive(0, 8, 500);
        fixture.pollUntil(() -> receiver.sink().received.size() == 1 && sender.sink().outcomes() == 1, "the message");
        assertEquals(List.of(1L), sender.sink().completed);
        assertReceived(receiver.sink().received, 500, 8);
        assertEquals(-1L, src.asSlice(0, 8).mismatch(buffers.asSlice(0, 8)));
    }

    @Test
    void receivesAreFilledInPostingOrder() {
        receive(0, 16, 500);
        receive(16, 16, 501);
        send(0, 4, 1);
        send(4, 6, 2);
        fixture.pollUntil(() -> receiver.sink().received.size() == 2 && sender.sink().outcomes() == 2, "2 messages");
        assertReceived(receiver.sink().received, 500, 4, 501, 6);
        assertEquals(-1L, src.asSlice(4, 6).mismatch(buffers.asSlice(16, 6)));
    }

    @Test
    void aMessageLongerThanTheBufferFailsBothSides() {
        receive(0, 8, 500);
        send(0, 16, 1);
        fixture.pollUntil(() -> receiver.sink().errors.size() == 1 && sender.sink().outcomes() == 1, "the failure");

        TransferException senderError = sender.sink().errors.get(1L);
        TransferException receiverError = receiver.sink().errors.get(500L);
        assertEquals(ErrorCategory.PROVIDER, senderError.category());
        assertEquals(ErrorCategory.PROVIDER, receiverError.category());
        assertTrue(senderError.getMessage().contains("16") && senderError.getMessage().contains("8"),
                senderError.getMessage());
        assertEquals(java.util.Map.of(), receiver.sink().received);
        assertArrayEquals(buffersBefore, buffers.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aReceiveWhoseBufferWasDeregisteredFailsBothSides() {
        receive(0, 8, 500);
        receiver.domain().deregister(receiveMemory);
        send(0, 8, 1);
        fixture.pollUntil(() -> receiver.sink().errors.size() == 1 && sender.sink().outcomes() == 1, "the failure");
        assertEquals(ErrorCategory.REMOTE_ACCESS, sender.sink().errors.get(1L).category());
        assertEquals(ErrorCategory.CLOSED, receiver.sink().errors.get(500L).category());
        assertArrayEquals(buffersBefore, buffers.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aZeroLengthSendCompletesAReceiveWithLengthZero() {
        receive(0, 8, 500);
        sender.domain().postSend(sender.peer(receiver), null, 0, 0, 1);
        fixture.pollUntil(() -> receiver.sink().received.size() == 1 && sender.sink().outcomes() == 1, "the message");
        assertReceived(receiver.sink().received, 500, 0);
        assertArrayEquals(buffersBefore, buffers.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aSendToAClosedPeerIsUnreachable() {
        long peer = sender.peer(receiver);
        receive(0, 8, 500);
        receiver.domain().close();
        sender.domain().postSend(peer, local, src.address(), 8, 1);
        Fixture.pollUntil(() -> sender.sink().outcomes() == 1, "the failure", sender);
        assertEquals(ErrorCategory.PEER_UNREACHABLE, sender.sink().errors.get(1L).category());
        assertArrayEquals(buffersBefore, buffers.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void completedReceivesFreeTheirQueueSlots() {
        try (Fixture small = new Fixture(java.util.Map.of(LoopbackOptions.QUEUE_DEPTH, "2"), 2)) {
            Endpoint a = small.get(0);
            Endpoint b = small.get(1);
            MemorySegment memory = small.segment(8, 0);
            RegisteredMemory sendMemory = Fixture.register(a, memory);
            RegisteredMemory recvMemory = Fixture.register(b, small.segment(8, 0));
            for (int round = 0; round < 5; round++) {
                // one context per receive: the sink holds the SPI to one outcome each
                long first = 100 + 2L * round;
                assertEquals(ProviderDomain.POSTED, b.domain().postReceive(recvMemory, recvMemory.address(), 8, first));
                assertEquals(ProviderDomain.POSTED, b.domain().postReceive(recvMemory, recvMemory.address(), 8,
                        first + 1));
                assertEquals(ProviderDomain.RETRY, b.domain().postReceive(recvMemory, recvMemory.address(), 8,
                        first + 2));
                a.domain().postSend(a.peer(b), sendMemory, memory.address(), 8, 2L * round);
                a.domain().postSend(a.peer(b), sendMemory, memory.address(), 8, 2L * round + 1);
                int expected = 2 * (round + 1);
                small.pollUntil(() -> b.sink().received.size() == expected && a.sink().outcomes() == expected,
                        "round " + round);
            }
        }
    }
}
