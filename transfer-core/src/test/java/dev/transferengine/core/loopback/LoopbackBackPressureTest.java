package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.core.loopback.Fixture.Endpoint;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LoopbackBackPressureTest {
    private final Fixture fixture = new Fixture(Map.of(LoopbackOptions.QUEUE_DEPTH, "4"), 2);
    private final Endpoint writer = fixture.get(0);
    private final Endpoint target = fixture.get(1);
    private final MemorySegment src = fixture.segment(64, 1);
    private final RegisteredMemory local = Fixture.register(writer, src);
    private final RegisteredMemory remote = Fixture.register(target, fixture.segment(64, 0));

    @AfterEach
    void close() {
        fixture.close();
    }

    private int write(int imm) {
        return writer.domain().postWrite(writer.peer(target), local, src.address() + imm, 1,
                remote.remoteBase() + imm, remote.remoteKey(), true, imm, imm);
    }

    @Test
    void postsBeyondTheQueueDepthRetryUntilCompletionsArePolled() {
        for (int i = 0; i < 4; i++) {
            assertEquals(ProviderDomain.POSTED, write(i));
        }
        assertEquals(ProviderDomain.RETRY, write(4));
        assertEquals(ProviderDomain.RETRY, writer.domain().postSend(writer.peer(target), local, src.address(), 1, 99));
        assertEquals(ProviderDomain.RETRY, writer.domain().postReceive(local, src.address(), 1, 98));

        assertEquals(4, writer.domain().poll(writer.sink(), 100));
        assertEquals(ProviderDomain.POSTED, write(4));
        Fixture.pollUntil(() -> writer.sink().outcomes() == 5 && target.sink().imms.size() == 5, "5 writes",
                writer, target);
        assertEquals(LongStream.range(0, 5).boxed().toList(), writer.sink().completed);
        assertEquals(IntStream.range(0, 5).boxed().toList(), target.sink().imms);
    }

    @Test
    void pollDeliversAtMostMaxEntries() {
        for (int i = 0; i < 4; i++) {
            write(i);
        }
        assertEquals(3, writer.domain().poll(writer.sink(), 3));
        assertEquals(1, writer.domain().poll(writer.sink(), 3));
        assertEquals(2, target.domain().poll(target.sink(), 2));
        assertEquals(2, target.domain().poll(target.sink(), 5));
        assertEquals(0, target.domain().poll(target.sink(), 5));
    }

    @Test
    void postedReceivesCountTowardsTheDepth() {
        for (int i = 0; i < 4; i++) {
            assertEquals(ProviderDomain.POSTED, writer.domain().postReceive(local, src.address(), 1, i));
        }
        assertEquals(ProviderDomain.RETRY, write(0));
    }

    @Test
    void aFullInboundQueueHoldsWritesBackAndDropsNothing() {
        // Depth 4 gives the target an inbound queue of 4 events: the second batch's imms have no room.
        for (int i = 0; i < 4; i++) {
            write(i);
        }
        assertEquals(4, writer.poll());
        for (int i = 4; i < 8; i++) {
            assertEquals(ProviderDomain.POSTED, write(i));
        }
        assertEquals(0, writer.poll(), "no room at the target until it polls");
        assertEquals(4, writer.sink().outcomes());

        assertEquals(4, target.poll());
        Fixture.pollUntil(() -> target.sink().imms.size() == 8 && writer.sink().outcomes() == 8, "8 writes",
                writer, target);
        assertEquals(IntStream.range(0, 8).boxed().toList(), target.sink().imms);
        assertEquals(List.of(), List.copyOf(writer.sink().errors.keySet()));
    }
}
