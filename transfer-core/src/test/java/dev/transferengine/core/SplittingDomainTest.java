package dev.transferengine.core;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.testing.AllocationMeter;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.loopback.LoopbackSettings;
import dev.transferengine.core.loopback.LoopbackProvider;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.testing.CountingSink;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SplittingDomain} against a domain that records posts and completes them only when told: pieces,
 * offsets and lengths, imm ordering, errors, back-pressure, one completion per write, pass-through of
 * everything else; and, on loopback domains, bytes and imms of split writes and no allocation.
 */
class SplittingDomainTest {
    private static final long LIMIT = 8192;
    private static final long SRC = 0x10_0000;
    private static final long DST = 0x80_0000;

    /** A NIC with a small maximum message size: posts are recorded, completed or failed on demand. */
    private static final class RecordingDomain implements ProviderDomain {
        record Post(RegisteredMemory src, long srcAddress, long length, long remoteAddress, long remoteKey,
                    boolean withImm, int imm, long context, long peer) {
        }

        final long limit;
        final List<Post> posts = new ArrayList<>();
        final List<Long> toComplete = new ArrayList<>();
        final List<Long> toFail = new ArrayList<>();
        final List<Runnable> inbound = new ArrayList<>();
        boolean full;
        /** Posts to this peer answer RETRY_PEER; -1: none. */
        long refusingPeer = -1;
        RuntimeException throwOnPost;
        boolean closed;

        RecordingDomain(long limit) {
            this.limit = limit;
        }

        @Override
        public DomainAddress address() {
            return DomainAddress.of(new byte[]{1});
        }

        @Override
        public DomainCapabilities capabilities() {
            return new DomainCapabilities(limit, true, true, 100);
        }

        @Override
        public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deregister(RegisteredMemory memory) {
        }

        @Override
        public long resolvePeer(DomainAddress peer) {
            return 1;
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            assertTrue(length <= limit, "a post of " + length + " bytes exceeds the NIC's " + limit);
            if (throwOnPost != null) {
                throw throwOnPost;
            }
            if (full) {
                return RETRY;
            }
            if (peer == refusingPeer) {
                return RETRY_PEER;
            }
            posts.add(new Post(src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context, peer));
            return POSTED;
        }

        @Override
        public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
            posts.add(new Post(src, address, length, -1, -1, false, 0, context, peer));
            return POSTED;
        }

        @Override
        public int postReceive(RegisteredMemory dst, long address, long length, long context) {
            return POSTED;
        }

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            int n = toComplete.size() + toFail.size() + inbound.size();
            List<Long> complete = new ArrayList<>(toComplete);
            List<Long> fail = new ArrayList<>(toFail);
            List<Runnable> in = new ArrayList<>(inbound);
            toComplete.clear();
            toFail.clear();
            inbound.clear();
            complete.forEach(sink::onComplete);
            fail.forEach(c -> sink.onError(c, new TransferException(ErrorCategory.REMOTE_ACCESS, "test: refused")));
            in.forEach(Runnable::run);
            return n;
        }

        @Override
        public void close() {
            closed = true;
        }

        void completeAll() {
            posts.forEach(p -> toComplete.add(p.context()));
        }
    }

    private final RecordingDomain nic = new RecordingDomain(LIMIT);
    private final SplittingDomain splitting = new SplittingDomain(nic, 4);
    private final RecordingSink sink = new RecordingSink();
    private final RegisteredMemory src = new RegisteredMemory() {
        public long address() { return SRC; }
        public long lengthBytes() { return 1L << 40; }
        public long remoteKey() { return 0; }
        public long remoteBase() { return 0; }
    };

    private int poll(int times) {
        int work = 0;
        for (int i = 0; i < times; i++) {
            work += splitting.poll(sink, 64);
        }
        return work;
    }

    private int write(long offset, long length, boolean withImm, int imm, long context) {
        return splitting.postWrite(1, src, SRC + offset, length, DST + offset, 9, withImm, imm, context);
    }

    /** Every post's source and destination advance together, so each piece is a contiguous slice. */
    private void assertSlices(long offset, long length) {
        long covered = 0;
        for (RecordingDomain.Post p : nic.posts) {
            assertSame(src, p.src());
            assertEquals(9, p.remoteKey());
            assertEquals(p.srcAddress() - SRC, p.remoteAddress() - DST, "source and destination offsets agree");
            assertEquals(offset + covered, p.srcAddress() - SRC, "pieces follow each other");
            covered += p.length();
        }
        assertEquals(length, covered, "the pieces cover the write exactly");
    }

    @Test
    void smallAndEmptyWritesPassThroughUntouched() {
        assertEquals(ProviderDomain.POSTED, write(0, 0, true, 5, 11));
        assertEquals(ProviderDomain.POSTED, write(100, LIMIT, true, 6, 12));
        assertEquals(ProviderDomain.POSTED, write(200, 1, false, 0, 13));
        assertEquals(3, nic.posts.size());
        assertEquals(new RecordingDomain.Post(src, SRC, 0, DST, 9, true, 5, 11, 1), nic.posts.get(0));
        assertEquals(new RecordingDomain.Post(src, SRC + 100, LIMIT, DST + 100, 9, true, 6, 12, 1), nic.posts.get(1));
        assertEquals(13, nic.posts.get(2).context());
        assertEquals(0, splitting.splitWritesInFlight());
        nic.completeAll();
        poll(1);
        assertEquals(List.of(11L, 12L, 13L), sink.completed, "completions pass through with the engine's contexts");
    }

    /**
     * A split write whose pieces are never reported (a silent peer) is given up after the abandon time with
     * TIMEOUT, once; its slot serves the next write; a late report of an old piece is ignored (the strict sink
     * would throw on a second outcome, and the new write would be miscounted).
     */
    @Test
    void aSplitWriteWhosePiecesNeverReturnIsGivenUpAndItsLateReportsIgnored() throws Exception {
        RecordingDomain silent = new RecordingDomain(LIMIT);
        SplittingDomain s = new SplittingDomain(silent, 1, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20));
        assertEquals(ProviderDomain.POSTED, s.postWrite(1, src, SRC, 3 * LIMIT, DST, 9, true, 4, 31));
        s.poll(sink, 64); // the second piece goes out; the imm piece waits for the first two
        assertEquals(2, silent.posts.size());
        long oldPiece = silent.posts.get(0).context();
        assertEquals(ProviderDomain.RETRY, s.postWrite(1, src, SRC, 3 * LIMIT, DST, 9, true, 5, 32), "table full");
        Thread.sleep(40);
        s.poll(sink, 64);
        assertEquals(1, sink.errors.size());
        assertEquals(ErrorCategory.TIMEOUT, sink.errors.get(31L).category());
        assertEquals(0, s.splitWritesInFlight());
        assertTrue(silent.posts.stream().noneMatch(p -> p.withImm()), "no imm piece for a write given up");

        assertEquals(ProviderDomain.POSTED, s.postWrite(1, src, SRC, 2 * LIMIT, DST, 9, false, 0, 33));
        s.poll(sink, 64);
        silent.toComplete.add(oldPiece); // the silent peer answers after all
        silent.toComplete.add(silent.posts.get(2).context());
        s.poll(sink, 64);
        assertTrue(sink.completed.isEmpty(), "one of two pieces of the new write done: " + sink.completed);
        silent.toComplete.add(silent.posts.get(3).context());
        s.poll(sink, 64);
        assertEquals(List.of(33L), sink.completed);
    }

    @Test
    void capabilitiesReportNoLimitButTheRealOneIsKept() {
        DomainCapabilities caps = splitting.capabilities();
        assertEquals(SplittingDomain.UNLIMITED, caps.maxMessageBytes());
        assertTrue(caps.remoteImm());
        assertTrue(caps.hostMemoryOnly());
        assertEquals(100, caps.linkSpeedBitsPerSec());
        assertEquals(LIMIT, splitting.messageLimit());
        assertEquals(LIMIT, splitting.pieceBytes());
        assertEquals(8192, new SplittingDomain(new RecordingDomain(10_000)).pieceBytes(), "page-aligned pieces");
        assertEquals(100, new SplittingDomain(new RecordingDomain(100)).pieceBytes(), "tiny limits are used as is");
        assertSame(nic, splitting.inner());
        // Sends cannot be split: they go to the provider as they are (the engine checks their size).
        splitting.postSend(1, src, SRC, 3 * LIMIT, 21);
        assertEquals(3 * LIMIT, nic.posts.get(0).length());
    }

    @Test
    void piecesGoOutWithoutImmAndTheImmPieceOnlyAfterTheOthersCompleted() {
        long length = 3 * LIMIT + 100; // four pieces
        assertEquals(ProviderDomain.POSTED, write(40, length, true, 42, 77));
        assertEquals(1, nic.posts.size(), "the first piece goes out at once");
        assertEquals(1, splitting.splitWritesInFlight());
        poll(1);
        assertEquals(3, nic.posts.size(), "the pieces before the last go out at once");
        nic.posts.forEach(p -> assertFalse(p.withImm(), "pieces before the last carry no imm"));
        nic.posts.forEach(p -> assertEquals(LIMIT, p.length()));
        nic.toComplete.add(nic.posts.get(2).context());
        nic.toComplete.add(nic.posts.get(0).context());
        poll(5);
        assertEquals(3, nic.posts.size(), "the imm piece waits for every other piece");
        nic.toComplete.add(nic.posts.get(1).context());
        poll(1);
        assertEquals(4, nic.posts.size());
        RecordingDomain.Post last = nic.posts.get(3);
        assertTrue(last.withImm());
        assertEquals(42, last.imm());
        assertEquals(100, last.length());
        assertSlices(40, length);
        assertTrue(sink.completed.isEmpty(), "the write completes only with its last piece");
        nic.toComplete.add(last.context());
        poll(3);
        assertEquals(List.of(77L), sink.completed, "exactly one completion, with the engine's context");
        assertTrue(sink.errors.isEmpty());
        assertEquals(0, splitting.splitWritesInFlight());
    }

    @Test
    void withoutImmEveryPieceGoesOutAtOnceAndCompletesInAnyOrder() {
        long length = 5 * LIMIT;
        write(0, length, false, 0, 3);
        poll(1);
        assertEquals(5, nic.posts.size());
        nic.posts.forEach(p -> assertFalse(p.withImm()));
        assertSlices(0, length);
        for (int i = 4; i >= 0; i--) {
            nic.toComplete.add(nic.posts.get(i).context());
            poll(1);
            assertEquals(i == 0 ? List.of(3L) : List.of(), sink.completed);
        }
        poll(3);
        assertEquals(List.of(3L), sink.completed);
    }

    @Test
    void otherCompletionsPassThroughWhileWritesAreSplit() {
        write(0, 2 * LIMIT, true, 1, 5);
        long engineContext = (123L << 32) | 7;
        long staged = StagingDomain.STAGED_FLAG | 3;
        long receive = Worker.RECEIVE_FLAG | 2;
        nic.toComplete.add(engineContext);
        nic.toComplete.add(staged);
        nic.toFail.add(receive);
        nic.inbound.add(() -> sink.onImm(99)); // stands in for the NIC reporting an inbound imm
        poll(1);
        assertEquals(List.of(engineContext, staged), sink.completed);
        assertEquals(List.of(receive), List.copyOf(sink.errors.keySet()));
        assertEquals(1, splitting.splitWritesInFlight(), "the split write is not affected");
    }

    @Test
    void aFailedPieceFailsTheWriteOnceAfterItsPostedPiecesAndNeverPostsTheImm() {
        write(0, 4 * LIMIT, true, 8, 6);
        poll(1);
        assertEquals(3, nic.posts.size());
        nic.toFail.add(nic.posts.get(0).context());
        nic.toComplete.add(nic.posts.get(1).context());
        poll(3);
        assertTrue(sink.errors.isEmpty(), "piece 3 is still in flight: the write is not finished");
        nic.toFail.add(nic.posts.get(2).context());
        poll(3);
        assertEquals(List.of(6L), List.copyOf(sink.errors.keySet()), "the write fails exactly once");
        assertEquals(ErrorCategory.REMOTE_ACCESS, sink.errors.get(6L).category());
        assertTrue(sink.completed.isEmpty());
        assertEquals(3, nic.posts.size(), "no piece, the imm piece least of all, is posted after a failure");
        nic.posts.forEach(p -> assertFalse(p.withImm()));
        assertEquals(0, splitting.splitWritesInFlight());
    }

    @Test
    void aPieceThatThrowsFailsTheWriteOnce() {
        write(0, 3 * LIMIT, false, 0, 4);
        assertEquals(1, nic.posts.size());
        nic.throwOnPost = new IllegalStateException("test: provider bug");
        poll(1);
        assertTrue(sink.errors.isEmpty(), "the first piece is still in flight");
        nic.throwOnPost = null;
        nic.toComplete.add(nic.posts.get(0).context());
        poll(3);
        assertEquals(List.of(4L), List.copyOf(sink.errors.keySet()));
        assertEquals(ErrorCategory.PROVIDER, sink.errors.get(4L).category());
        assertEquals(1, nic.posts.size());
    }

    @Test
    void aFirstPieceThatThrowsPropagatesWithNothingPosted() {
        nic.throwOnPost = new TransferException(ErrorCategory.INVALID_ARGUMENT, "test: bad key");
        TransferException e = assertThrows(TransferException.class, () -> write(0, 2 * LIMIT, true, 1, 2));
        assertSame(nic.throwOnPost, e);
        assertEquals(0, splitting.splitWritesInFlight(), "no split write is kept for a post that threw");
        nic.throwOnPost = null;
        poll(3);
        assertTrue(sink.completed.isEmpty() && sink.errors.isEmpty(), "a post that threw reports nothing more");
    }

    @Test
    void aFullNicIsRetriedAndAFullTableAnswersRetry() {
        nic.full = true;
        assertEquals(ProviderDomain.RETRY, write(0, 2 * LIMIT, false, 0, 1), "the first piece did not go out");
        assertEquals(0, splitting.splitWritesInFlight());
        nic.full = false;
        for (int i = 0; i < 4; i++) {
            assertEquals(ProviderDomain.POSTED, write(i * 2 * LIMIT, 2 * LIMIT, true, i, 10 + i));
        }
        assertEquals(4, nic.posts.size());
        assertEquals(ProviderDomain.RETRY, write(0, 2 * LIMIT, true, 9, 20), "four split writes in flight at most");
        assertEquals(ProviderDomain.POSTED, write(0, LIMIT, true, 9, 21), "writes that need no split still go");
        nic.full = true;
        nic.toComplete.add(nic.posts.get(0).context());
        poll(3);
        assertEquals(5, nic.posts.size(), "the imm piece waits while the NIC's queue is full");
        nic.full = false;
        poll(1);
        assertEquals(6, nic.posts.size());
        RecordingDomain.Post imm = nic.posts.get(5);
        assertTrue(imm.withImm());
        assertEquals(0, imm.imm());
        assertEquals(LIMIT, imm.remoteAddress() - DST);
        nic.toComplete.add(imm.context());
        poll(1);
        assertEquals(List.of(10L), sink.completed);
        assertEquals(ProviderDomain.POSTED, write(0, 2 * LIMIT, true, 9, 20), "a slot became free");
    }

    @Test
    void aPeerThatRefusesHoldsOnlyItsOwnPiecesWhileOtherPeersWritesGoOn() {
        long length = 4 * LIMIT;
        assertEquals(ProviderDomain.POSTED, splitting.postWrite(7, src, SRC, length, DST, 9, true, 1, 31));
        nic.refusingPeer = 7; // e.g. its connection dropped and is being sorted out
        assertEquals(ProviderDomain.RETRY_PEER, splitting.postWrite(7, src, SRC, length, DST, 9, true, 1, 32),
                "a new split write to the refusing peer is refused for that peer only");
        assertEquals(ProviderDomain.POSTED, splitting.postWrite(8, src, SRC, length, DST, 9, true, 2, 33));
        poll(3);
        assertEquals(1, postsTo(7), "the refusing peer's write waits after its first piece");
        assertEquals(3, postsTo(8), "the other peer's pieces (all but the imm piece) go out past it");
        int completed = completeFrom(0);
        poll(2);
        assertEquals(4, postsTo(8), "the other peer's imm piece too");
        completed = completeFrom(completed);
        poll(2);
        assertEquals(List.of(33L), sink.completed);
        nic.refusingPeer = -1;
        for (int i = 0; i < 4; i++) {
            poll(1);
            completed = completeFrom(completed);
        }
        poll(2);
        assertEquals(List.of(33L, 31L), sink.completed, "the held write finishes once its peer takes posts again");
        assertEquals(4, postsTo(7));
    }

    private long postsTo(long peer) {
        return nic.posts.stream().filter(p -> p.peer() == peer).count();
    }

    /** Completes the posts from index {@code from} on; returns the number of posts. */
    private int completeFrom(int from) {
        for (int i = from; i < nic.posts.size(); i++) {
            nic.toComplete.add(nic.posts.get(i).context());
        }
        return nic.posts.size();
    }

    @Test
    void aHugeWriteIsPostedWithinAPerPollBudgetAndKeepsTheWorkerBusy() {
        long pieces = 3L * SplittingDomain.PIECES_PER_POLL;
        write(0, pieces * LIMIT, false, 0, 1);
        assertTrue(splitting.poll(sink, 64) >= 1, "pieces left to post count as work");
        assertEquals(1 + SplittingDomain.PIECES_PER_POLL, nic.posts.size());
        poll(5);
        assertEquals(pieces, nic.posts.size());
        assertSlices(0, pieces * LIMIT);
        assertEquals(0, splitting.poll(sink, 64), "only completions are awaited: idle");
        nic.completeAll();
        poll(1);
        assertEquals(List.of(1L), sink.completed);
    }

    @Test
    void closeClosesTheNic() {
        splitting.close();
        assertTrue(nic.closed);
    }

    // ---------------------------------------------------------------- on loopback domains

    @Test
    void splitWritesMoveTheBytesAndDeliverOneImmWithoutAllocating() {
        AllocationMeter meter = AllocationMeter.forCurrentThread();
        Map<String, String> options = Map.of(LoopbackOptions.MAX_MESSAGE_BYTES, "1024", LoopbackOptions.REORDER,
                "true");
        try (Arena arena = Arena.ofShared(); ProviderFabric fabric = new LoopbackProvider().open(options, 2)) {
            SplittingDomain writer = new SplittingDomain(fabric.openDomain(fabric.domains().get(0)));
            ProviderDomain target = fabric.openDomain(fabric.domains().get(1));
            int length = 4096 + 100;
            MemorySegment source = arena.allocate(length);
            MemorySegment destination = arena.allocate(length);
            for (int i = 0; i < length; i++) {
                source.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            RegisteredMemory local = writer.register(source, false);
            RegisteredMemory remote = target.register(destination, true);
            long peer = writer.resolvePeer(target.address());
            CountingSink writerSink = new CountingSink();
            CountingSink targetSink = new CountingSink();

            writeMany(1, writer, target, peer, local, remote, length, writerSink, targetSink);
            assertEquals(-1, source.mismatch(destination), "the pieces land at the right offsets");
            assertEquals(1, targetSink.imms, "one imm for the whole write");

            writeMany(2_000, writer, target, peer, local, remote, length, writerSink, targetSink);
            long before = meter.bytes();
            writeMany(20_000, writer, target, peer, local, remote, length, writerSink, targetSink);
            long allocated = meter.bytes() - before;
            assertEquals(22_001, writerSink.completed);
            assertEquals(22_001, targetSink.imms, "one imm per split write");
            assertEquals(0, writerSink.errors);
            assertTrue(allocated < 64 * 1024, allocated + " bytes allocated by 20000 split writes");
        }
    }

    /** Keeps up to 8 split writes in flight; each poll drives both sides. */
    private static void writeMany(int count, ProviderDomain writer, ProviderDomain target, long peer,
                                  RegisteredMemory local, RegisteredMemory remote, long length,
                                  CountingSink writerSink, CountingSink targetSink) {
        long goal = writerSink.completed + count;
        long imms = targetSink.imms + count;
        int posted = 0;
        while (writerSink.completed < goal || targetSink.imms < imms) {
            if (posted < count && posted - (writerSink.completed - (goal - count)) < 8) {
                if (writer.postWrite(peer, local, local.address(), length, remote.remoteBase(), remote.remoteKey(),
                        true, posted, posted) == ProviderDomain.POSTED) {
                    posted++;
                }
            }
            writer.poll(writerSink, 16);
            target.poll(targetSink, 16);
        }
    }
}
