package dev.transferengine.core.loopback;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.core.loopback.Fixture.Endpoint;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Errors the writer can detect itself are thrown from the post, and nothing is queued. */
class LoopbackPostValidationTest {
    private final Fixture fixture = new Fixture(2);
    private final Endpoint writer = fixture.get(0);
    private final Endpoint target = fixture.get(1);
    private final MemorySegment src = fixture.segment(64, 1);
    private final RegisteredMemory local = Fixture.register(writer, src);
    private final RegisteredMemory remote = Fixture.register(target, fixture.segment(64, 0));

    @AfterEach
    void close() {
        fixture.close();
    }

    private int write(RegisteredMemory source, long address, long length) {
        return writer.domain().postWrite(writer.peer(target), source, address, length, remote.remoteBase(),
                remote.remoteKey(), false, 0, 1);
    }

    @Test
    void sourceOutsideItsRegistrationIsRejected() {
        assertThrows(InvalidRequestException.class, () -> write(local, src.address() + 60, 8));
        assertThrows(InvalidRequestException.class, () -> write(local, src.address() - 1, 8));
        assertThrows(InvalidRequestException.class, () -> write(local, src.address() + 65, 0));
        assertNothingQueued();
    }

    @Test
    void negativeLengthIsRejected() {
        assertThrows(InvalidRequestException.class, () -> write(local, src.address(), -1));
        assertNothingQueued();
    }

    @Test
    void aNonEmptyWriteNeedsASource() {
        assertThrows(InvalidRequestException.class, () -> write(null, 0, 8));
        assertNothingQueued();
    }

    @Test
    void anotherDomainsRegistrationIsNotASource() {
        assertThrows(InvalidRequestException.class, () -> write(remote, remote.address(), 8));
        assertNothingQueued();
    }

    @Test
    void aDeregisteredSourceIsClosed() {
        writer.domain().deregister(local);
        assertThrows(ClosedException.class, () -> write(local, src.address(), 8));
        assertNothingQueued();
    }

    @Test
    void anUnknownPeerHandleIsRejected() {
        assertThrows(InvalidRequestException.class, () -> writer.domain().postWrite(12345, local, src.address(),
                8, remote.remoteBase(), remote.remoteKey(), false, 0, 1));
        assertThrows(InvalidRequestException.class, () -> writer.domain().postSend(-1, local, src.address(), 8, 1));
    }

    @Test
    void aForeignAddressIsRejected() {
        assertThrows(InvalidRequestException.class,
                () -> writer.domain().resolvePeer(DomainAddress.of(new byte[] {'X', 1, 2, 3, 4, 5, 6, 7, 8})));
        assertThrows(InvalidRequestException.class,
                () -> writer.domain().resolvePeer(DomainAddress.of(new byte[] {'L', 1})));
    }

    @Test
    void receiveBufferOutsideItsRegistrationIsRejected() {
        assertThrows(InvalidRequestException.class,
                () -> writer.domain().postReceive(local, src.address() + 32, 64, 1));
        assertThrows(InvalidRequestException.class, () -> writer.domain().postReceive(remote, remote.address(), 8, 1));
    }

    @Test
    void registrationNeedsNativeNonEmptyMemory() {
        ProviderDomain domain = writer.domain();
        assertThrows(InvalidRequestException.class, () -> domain.register(MemorySegment.ofArray(new byte[8]), true));
        assertThrows(InvalidRequestException.class, () -> domain.register(src.asSlice(0, 0), true));
        assertThrows(InvalidRequestException.class, () -> domain.register(null, true));
    }

    @Test
    void readOnlyMemoryCannotBeWrittenRemotelyOrReceivedInto() {
        try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            for (MemorySegment readOnly : List.of(src.asReadOnly(), confined.allocate(16).asReadOnly())) {
                assertThrows(InvalidRequestException.class, () -> target.domain().register(readOnly, true));
                RegisteredMemory sourceOnly = writer.domain().register(readOnly, false);
                assertThrows(InvalidRequestException.class,
                        () -> writer.domain().postReceive(sourceOnly, sourceOnly.address(), 8, 1));
            }
        }
        assertNothingQueued();
    }

    @Test
    void everyCallOnAClosedDomainSaysClosed() {
        long peer = writer.peer(target);
        writer.domain().close();
        assertThrows(ClosedException.class, () -> writer.domain().postWrite(peer, local, src.address(), 8,
                remote.remoteBase(), remote.remoteKey(), false, 0, 1));
        assertThrows(ClosedException.class, () -> writer.domain().postSend(peer, local, src.address(), 8, 1));
        assertThrows(ClosedException.class, () -> writer.domain().postReceive(local, src.address(), 8, 1));
        assertThrows(ClosedException.class, () -> writer.domain().register(src, true));
        assertThrows(ClosedException.class, () -> writer.domain().resolvePeer(target.domain().address()));
        assertEquals(0, writer.poll());
        writer.domain().deregister(local); // harmless after close
    }

    private void assertNothingQueued() {
        for (int i = 0; i < 5; i++) {
            writer.poll();
        }
        assertEquals(List.of(), writer.sink().completed);
        assertEquals(0, writer.sink().errors.size());
    }
}
