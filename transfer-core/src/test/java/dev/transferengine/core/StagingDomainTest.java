package dev.transferengine.core;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.testing.HostDeviceBackend;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StagingDomain} against a host-only domain that records posts and completes them only when told:
 * pieces, imm ordering, slot reuse, errors, back-pressure and clean-up.
 */
class StagingDomainTest {
    private static final long SLOT = 4096;

    /** A host-only NIC: posts are recorded with a copy of the bytes they would send, completed on demand. */
    private static final class RecordingDomain implements ProviderDomain {
        record Post(long address, long length, long remoteAddress, boolean withImm, int imm, long context, byte[] bytes) {
        }

        final List<Post> posts = new ArrayList<>();
        final List<RegisteredMemory> registered = new ArrayList<>();
        boolean full;
        boolean closed;

        @Override
        public DomainAddress address() {
            return DomainAddress.of(new byte[]{1});
        }

        @Override
        public DomainCapabilities capabilities() {
            return new DomainCapabilities(1L << 30, true, true, 0);
        }

        @Override
        public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
            RegisteredMemory m = new RegisteredMemory() {
                public long address() { return segment.address(); }
                public long lengthBytes() { return segment.byteSize(); }
                public long remoteKey() { return 7; }
                public long remoteBase() { return 0; }
            };
            registered.add(m);
            return m;
        }

        @Override
        public void deregister(RegisteredMemory memory) {
            registered.remove(memory);
        }

        @Override
        public long resolvePeer(DomainAddress peer) {
            return 1;
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            if (full) {
                return RETRY;
            }
            byte[] bytes = MemorySegment.ofAddress(srcAddress).reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
            posts.add(new Post(srcAddress, length, remoteAddress, withImm, imm, context, bytes));
            return POSTED;
        }

        @Override
        public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
            return POSTED;
        }

        @Override
        public int postReceive(RegisteredMemory dst, long address, long length, long context) {
            return POSTED;
        }

        final List<Long> toComplete = new ArrayList<>();
        final List<Long> toFail = new ArrayList<>();

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            int n = toComplete.size() + toFail.size();
            toComplete.forEach(sink::onComplete);
            toFail.forEach(c -> sink.onError(c, new TransferException(ErrorCategory.REMOTE_ACCESS, "test: refused")));
            toComplete.clear();
            toFail.clear();
            return n;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final HostDeviceBackend backend = new HostDeviceBackend(1);
    private final RecordingDomain nic = new RecordingDomain();
    private final StagingDomain staging = new StagingDomain(nic, backend, 0, new StagingSettings(SLOT, 2));
    private final dev.transferengine.testing.CountingSink sink = new dev.transferengine.testing.CountingSink();

    private RegisteredMemory stagedSource(long length, byte[] pattern) {
        long ptr = backend.allocate(0, length);
        backend.upload(ptr, MemorySegment.ofArray(pattern));
        var allocation = backend.checkRange(0, ptr, length);
        return staging.registerDevice(new DeviceMemory(ptr, length, 0, allocation, backend), false);
    }

    private void pollUntil(java.util.function.BooleanSupplier done) {
        for (int i = 0; i < 100 && !done.getAsBoolean(); i++) {
            staging.poll(sink, 64);
        }
        assertTrue(done.getAsBoolean(), "condition not reached within 100 polls");
    }

    @Test
    void piecesGoOutWithoutImmAndTheImmPieceOnlyAfterTheOthersCompleted() {
        long length = SLOT * 3 + 100; // four pieces, two slots
        byte[] pattern = new byte[(int) length];
        new java.util.Random(1).nextBytes(pattern);
        RegisteredMemory src = stagedSource(length, pattern);
        assertTrue(src instanceof StagedRegistration);
        assertEquals(ProviderDomain.POSTED, staging.postWrite(1, src, src.address(), length, 1000, 9, true, 42, 77));
        pollUntil(() -> nic.posts.size() == 2);
        staging.poll(sink, 64);
        assertEquals(2, nic.posts.size(), "only two slots: two pieces in flight");
        nic.posts.forEach(p -> assertFalse(p.withImm(), "pieces before the last carry no imm"));
        nic.toComplete.add(nic.posts.get(0).context());
        nic.toComplete.add(nic.posts.get(1).context());
        pollUntil(() -> nic.posts.size() == 3);
        // Piece 3 (no imm) is out; the last piece (imm) waits for piece 3 to complete even once copied.
        for (int i = 0; i < 10; i++) {
            staging.poll(sink, 64);
        }
        assertEquals(3, nic.posts.size(), "the imm piece waits for every other piece");
        nic.toComplete.add(nic.posts.get(2).context());
        pollUntil(() -> nic.posts.size() == 4);
        RecordingDomain.Post last = nic.posts.get(3);
        assertTrue(last.withImm());
        assertEquals(42, last.imm());
        assertEquals(0, sink.completed, "the engine's write completes only with its last piece");
        nic.toComplete.add(last.context());
        pollUntil(() -> sink.completed == 1);
        byte[] sent = new byte[(int) length];
        for (RecordingDomain.Post p : nic.posts) {
            System.arraycopy(p.bytes(), 0, sent, (int) (p.remoteAddress() - 1000), p.bytes().length);
        }
        assertArrayEquals(pattern, sent, "the pieces carry the device bytes to the right remote offsets");
    }

    @Test
    void aFailedPieceFailsTheWriteOnceAndStopsTheRest() {
        long length = SLOT * 4;
        RegisteredMemory src = stagedSource(length, new byte[(int) length]);
        staging.postWrite(1, src, src.address(), length, 0, 9, true, 1, 5);
        pollUntil(() -> nic.posts.size() == 2);
        nic.toFail.add(nic.posts.get(0).context());
        nic.toComplete.add(nic.posts.get(1).context());
        pollUntil(() -> sink.errors == 1);
        for (int i = 0; i < 10; i++) {
            staging.poll(sink, 64);
        }
        assertEquals(2, nic.posts.size(), "no piece is posted after a failure");
        assertEquals(0, sink.completed);
        assertEquals(1, sink.errors, "the write fails exactly once");
    }

    @Test
    void aFullNicIsRetriedAndShortWritesNeedOnePiece() {
        RegisteredMemory src = stagedSource(100, new byte[100]);
        nic.full = true;
        staging.postWrite(1, src, src.address() + 10, 50, 0, 9, false, 0, 3);
        for (int i = 0; i < 5; i++) {
            staging.poll(sink, 64);
        }
        assertTrue(nic.posts.isEmpty());
        nic.full = false;
        pollUntil(() -> nic.posts.size() == 1);
        assertEquals(50, nic.posts.get(0).length());
        nic.toComplete.add(nic.posts.get(0).context());
        pollUntil(() -> sink.completed == 1);
    }

    @Test
    void sourceRangesAreCheckedAndTargetsRefused() {
        RegisteredMemory src = stagedSource(100, new byte[100]);
        assertThrows(InvalidRequestException.class,
                () -> staging.postWrite(1, src, src.address() + 90, 20, 0, 9, false, 0, 3));
        assertThrows(InvalidRequestException.class,
                () -> staging.postWrite(1, src, src.address() - 1, 10, 0, 9, false, 0, 3));
        long ptr = backend.allocate(0, 4096);
        TransferException e = assertThrows(TransferException.class, () -> staging.registerDevice(
                new DeviceMemory(ptr, 4096, 0, backend.checkRange(0, ptr, 4096), backend), true));
        assertEquals(ErrorCategory.UNAVAILABLE, e.category());
    }

    @Test
    void closeFreesTheBounceBuffersAfterTheNic() {
        stagedSource(100, new byte[100]);
        assertEquals(1, backend.pinnedBuffers());
        assertEquals(1, nic.registered.size(), "bounce slots registered with the NIC");
        staging.close();
        assertTrue(nic.closed);
        assertEquals(0, backend.pinnedBuffers());
        staging.close(); // idempotent
        assertSame(nic, staging.inner());
    }
}
