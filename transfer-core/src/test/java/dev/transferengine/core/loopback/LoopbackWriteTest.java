package dev.transferengine.core.loopback;

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

class LoopbackWriteTest {
    private final Fixture fixture = new Fixture(2);
    private final Endpoint writer = fixture.get(0);
    private final Endpoint target = fixture.get(1);

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void bytesLandAtTheRemoteAddressAndNowhereElse() {
        MemorySegment src = fixture.segment(4096, 1);
        MemorySegment dst = fixture.segment(4096, 100);
        byte[] before = dst.toArray(ValueLayout.JAVA_BYTE);
        RegisteredMemory local = Fixture.register(writer, src);
        RegisteredMemory remote = Fixture.register(target, dst);

        int posted = writer.domain().postWrite(writer.peer(target), local, src.address() + 10, 1000,
                remote.remoteBase() + 2000, remote.remoteKey(), false, 0, 77);
        assertEquals(ProviderDomain.POSTED, posted);
        Fixture.pollUntil(() -> writer.sink().outcomes() == 1, "write completion", writer);

        assertEquals(List.of(77L), writer.sink().completed);
        byte[] expected = before.clone();
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, 10, expected, 2000, 1000);
        assertArrayEquals(expected, dst.toArray(ValueLayout.JAVA_BYTE));
        target.poll();
        assertEquals(List.of(), target.sink().imms, "a write without imm must not produce one");
    }

    @Test
    void immIsDeliveredOnceAndOnlyWhenTheTargetPolls() {
        MemorySegment src = fixture.segment(64, 1);
        MemorySegment dst = fixture.segment(64, 0);
        RegisteredMemory local = Fixture.register(writer, src);
        RegisteredMemory remote = Fixture.register(target, dst);

        writer.domain().postWrite(writer.peer(target), local, src.address(), 64, remote.remoteBase(),
                remote.remoteKey(), true, 0xCAFE, 1);
        Fixture.pollUntil(() -> writer.sink().outcomes() == 1, "write completion", writer);
        assertEquals(List.of(1L), writer.sink().completed);
        assertEquals(List.of(), target.sink().imms, "the target has not polled yet");
        assertEquals(0, target.sink().events());

        assertEquals(1, target.poll());
        for (int i = 0; i < 10; i++) {
            target.poll();
            writer.poll();
        }
        assertEquals(List.of(0xCAFE), target.sink().imms);
        assertArrayEquals(src.toArray(ValueLayout.JAVA_BYTE), dst.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(List.of(), writer.sink().imms, "the imm goes to the target only");
    }

    @Test
    void nothingHappensUntilTheWriterPolls() {
        MemorySegment src = fixture.segment(16, 1);
        MemorySegment dst = fixture.segment(16, 50);
        byte[] before = dst.toArray(ValueLayout.JAVA_BYTE);
        RegisteredMemory local = Fixture.register(writer, src);
        RegisteredMemory remote = Fixture.register(target, dst);

        writer.domain().postWrite(writer.peer(target), local, src.address(), 16, remote.remoteBase(),
                remote.remoteKey(), true, 5, 1);
        for (int i = 0; i < 10; i++) {
            target.poll();
        }
        assertArrayEquals(before, dst.toArray(ValueLayout.JAVA_BYTE), "manual progress: the writer never polled");
        assertEquals(List.of(), target.sink().imms);

        Fixture.pollUntil(() -> target.sink().imms.size() == 1, "imm", writer, target);
        assertArrayEquals(src.toArray(ValueLayout.JAVA_BYTE), dst.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void zeroLengthImmWriteNeedsNoSourceAndIsBoundsChecked() {
        MemorySegment dst = fixture.segment(32, 0);
        byte[] before = dst.toArray(ValueLayout.JAVA_BYTE);
        RegisteredMemory remote = Fixture.register(target, dst);
        long peer = writer.peer(target);
        ProviderDomain domain = writer.domain();

        domain.postWrite(peer, null, 0, 0, remote.remoteBase(), remote.remoteKey(), true, 11, 1);
        domain.postWrite(peer, null, 0, 0, remote.remoteBase() + 32, remote.remoteKey(), true, 12, 2);
        domain.postWrite(peer, null, 0, 0, remote.remoteBase() + 33, remote.remoteKey(), true, 13, 3);
        domain.postWrite(peer, null, 0, 0, remote.remoteBase() - 1, remote.remoteKey(), true, 14, 4);
        fixture.pollUntil(() -> writer.sink().outcomes() == 4 && target.sink().imms.size() == 2, "4 writes");

        assertEquals(List.of(1L, 2L), writer.sink().completed);
        assertEquals(List.of(3L, 4L), List.copyOf(writer.sink().errors.keySet()));
        assertEquals(List.of(11, 12), target.sink().imms);
        assertArrayEquals(before, dst.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aDomainCanWriteIntoItself() {
        MemorySegment src = fixture.segment(8, 1);
        MemorySegment dst = fixture.segment(8, 0);
        RegisteredMemory local = Fixture.register(writer, src);
        RegisteredMemory remote = Fixture.register(writer, dst);

        writer.domain().postWrite(writer.peer(writer), local, src.address(), 8, remote.remoteBase(),
                remote.remoteKey(), true, 3, 9);
        Fixture.pollUntil(() -> writer.sink().imms.size() == 1 && writer.sink().outcomes() == 1, "self write", writer);
        assertEquals(List.of(9L), writer.sink().completed);
        assertArrayEquals(src.toArray(ValueLayout.JAVA_BYTE), dst.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aLargeWriteLandsWhole() {
        int size = 1 << 20;
        MemorySegment src = fixture.segment(size, 7);
        MemorySegment dst = fixture.segment(size, 0);
        RegisteredMemory local = Fixture.register(writer, src);
        RegisteredMemory remote = Fixture.register(target, dst);

        writer.domain().postWrite(writer.peer(target), local, src.address(), size, remote.remoteBase(),
                remote.remoteKey(), true, 1, 1);
        Fixture.pollUntil(() -> target.sink().imms.size() == 1, "imm of the 1 MiB write", writer, target);
        assertEquals(-1L, src.mismatch(dst));
    }

    @Test
    void resolvingTheSameAddressTwiceGivesTheSameHandle() {
        assertEquals(writer.peer(target), writer.peer(target));
        assertTrue(writer.peer(target) != writer.peer(writer));
    }
}
