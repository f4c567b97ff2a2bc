package dev.transferengine.core.loopback;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.loopback.Fixture.Endpoint;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errors found when a write is applied at the target: reported on the writer, target bytes untouched. */
class LoopbackRemoteErrorTest {
    private final Fixture fixture = new Fixture(2);
    private final Endpoint writer = fixture.get(0);
    private final Endpoint target = fixture.get(1);
    private MemorySegment src;
    private MemorySegment dst;
    private byte[] dstBefore;
    private RegisteredMemory local;
    private RegisteredMemory remote;

    @BeforeEach
    void regions() {
        src = fixture.segment(256, 1);
        dst = fixture.segment(256, 90);
        dstBefore = dst.toArray(ValueLayout.JAVA_BYTE);
        local = Fixture.register(writer, src);
        remote = Fixture.register(target, dst);
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    /** Posts one imm write, polls both sides to quiescence, returns the writer's error. */
    private TransferException failingWrite(long remoteAddress, long length, long key) {
        int posted = writer.domain().postWrite(writer.peer(target), local, src.address(), length, remoteAddress,
                key, true, 42, 5);
        assertEquals(ProviderDomain.POSTED, posted);
        Fixture.pollUntil(() -> writer.sink().outcomes() == 1, "the write's outcome", writer);
        for (int i = 0; i < 5; i++) {
            target.poll();
        }
        assertEquals(List.of(), writer.sink().completed);
        assertEquals(List.of(), target.sink().imms, "a failed write must not deliver its imm");
        assertArrayEquals(dstBefore, dst.toArray(ValueLayout.JAVA_BYTE), "a failed write must not write");
        return writer.sink().errors.get(5L);
    }

    @Test
    void wrongKeyIsRemoteAccess() {
        TransferException error = failingWrite(remote.remoteBase(), 16, remote.remoteKey() ^ 1);
        assertEquals(ErrorCategory.REMOTE_ACCESS, error.category());
        assertTrue(error.getMessage().contains(Long.toHexString(remote.remoteKey() ^ 1)), error.getMessage());
    }

    @Test
    void aKeyWithTheRightSlotButAnotherSecretIsRejected() {
        long forged = (remote.remoteKey() & 0xFFFF_FFFF_0000_0000L) | ((remote.remoteKey() + 1) & 0xFFFF_FFFFL);
        assertEquals(ErrorCategory.REMOTE_ACCESS, failingWrite(remote.remoteBase(), 16, forged).category());
    }

    @Test
    void rangePastTheEndIsRemoteAccess() {
        TransferException error = failingWrite(remote.remoteBase() + 250, 16, remote.remoteKey());
        assertEquals(ErrorCategory.REMOTE_ACCESS, error.category());
        assertTrue(error.getMessage().contains("outside registration"), error.getMessage());
    }

    @Test
    void rangeBeforeTheStartIsRemoteAccess() {
        assertEquals(ErrorCategory.REMOTE_ACCESS,
                failingWrite(remote.remoteBase() - 8, 16, remote.remoteKey()).category());
    }

    @Test
    void wrappingRangeIsRemoteAccess() {
        assertEquals(ErrorCategory.REMOTE_ACCESS, failingWrite(-8, 16, remote.remoteKey()).category());
    }

    @Test
    void deregisteredKeyIsRemoteAccess() {
        target.domain().deregister(remote);
        target.domain().deregister(remote); // idempotent
        assertEquals(ErrorCategory.REMOTE_ACCESS,
                failingWrite(remote.remoteBase(), 16, remote.remoteKey()).category());
    }

    @Test
    void aReusedSlotGetsANewKey() {
        target.domain().deregister(remote);
        RegisteredMemory again = Fixture.register(target, dst);
        assertNotEquals(remote.remoteKey(), again.remoteKey());
        assertEquals(ErrorCategory.REMOTE_ACCESS,
                failingWrite(remote.remoteBase(), 16, remote.remoteKey()).category());
    }

    @Test
    void localOnlyRegistrationRejectsRemoteWrites() {
        RegisteredMemory localOnly = target.domain().register(dst, false);
        TransferException error = failingWrite(localOnly.remoteBase(), 16, localOnly.remoteKey());
        assertEquals(ErrorCategory.REMOTE_ACCESS, error.category());
        assertTrue(error.getMessage().contains("does not allow remote writes"), error.getMessage());
    }

    @Test
    void closedPeerIsUnreachable() {
        long peer = writer.peer(target);
        target.domain().close();
        target.domain().close(); // idempotent
        writer.domain().postWrite(peer, local, src.address(), 16, remote.remoteBase(), remote.remoteKey(),
                true, 1, 5);
        Fixture.pollUntil(() -> writer.sink().outcomes() == 1, "the write's outcome", writer);
        assertEquals(ErrorCategory.PEER_UNREACHABLE, writer.sink().errors.get(5L).category());
        assertArrayEquals(dstBefore, dst.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void peerResolvedAfterItClosedIsUnreachable() {
        var address = target.domain().address();
        target.domain().close();
        long peer = writer.domain().resolvePeer(address);
        writer.domain().postWrite(peer, null, 0, 0, remote.remoteBase(), remote.remoteKey(), true, 1, 5);
        Fixture.pollUntil(() -> writer.sink().outcomes() == 1, "the write's outcome", writer);
        assertEquals(ErrorCategory.PEER_UNREACHABLE, writer.sink().errors.get(5L).category());
    }

    @Test
    void writeIntoAFreedSharedArenaFailsWithoutTouchingIt() {
        Arena arena = Arena.ofShared();
        RegisteredMemory doomed = Fixture.register(target, arena.allocate(64));
        arena.close();
        TransferException error = failingWrite(doomed.remoteBase(), 16, doomed.remoteKey());
        assertEquals(ErrorCategory.REMOTE_ACCESS, error.category());
        assertTrue(error.getMessage().contains("freed"), error.getMessage());
    }

    @Test
    void writeIntoAFreedConfinedArenaFailsWithoutTouchingIt() {
        Arena arena = Arena.ofConfined();
        RegisteredMemory doomed = Fixture.register(target, arena.allocate(64));
        arena.close();
        assertEquals(ErrorCategory.REMOTE_ACCESS,
                failingWrite(doomed.remoteBase(), 16, doomed.remoteKey()).category());
    }

    @Test
    void laterWritesStillWorkAfterAFailure() {
        failingWrite(remote.remoteBase(), 16, remote.remoteKey() ^ 1);
        writer.domain().postWrite(writer.peer(target), local, src.address(), 16, remote.remoteBase(),
                remote.remoteKey(), true, 2, 6);
        Fixture.pollUntil(() -> target.sink().imms.size() == 1, "the good write's imm", writer, target);
        assertEquals(List.of(6L), writer.sink().completed);
        assertEquals(-1L, src.asSlice(0, 16).mismatch(dst.asSlice(0, 16)));
    }
}
