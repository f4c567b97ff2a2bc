package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Issue 9: a peer whose posts are refused (RETRY_PEER: libfabric sorting out its dropped connection, verbs
 * reconnecting its queue pairs) must not hold the writes to other peers queued behind its own. Before the fix,
 * the worker took any refusal as "the NIC is full" and posted nothing more in that pass, so a live peer's write
 * submitted after a dead peer's waited for the dead peer's transfer timeout (the flaky PeerDeathTest on CI).
 */
class RefusingPeerTest {
    private static final int BYTES = 4096;
    private static final int HELD = 8;

    @AfterEach
    void reset() {
        RefusingPeerProvider.refused = null;
    }

    @Test
    void writesToOtherPeersGoPastARefusingPeersAndItsOwnLandOnceItTakesPostsAgain() throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine a = engine("refusing-a");
             TransferEngine live = engine("refusing-live");
             TransferEngine stuck = engine("refusing-stuck")) {
            MemoryRegion src = a.register(arena.allocate(BYTES).fill((byte) 0x5A), Access.LOCAL);
            MemoryRegion liveDst = live.register(arena.allocate((long) BYTES * 64), Access.REMOTE_WRITE);
            MemoryRegion stuckDst = stuck.register(arena.allocate((long) BYTES * HELD), Access.REMOTE_WRITE);
            RefusingPeerProvider.refused = stuck.addresses(0).get(0);

            List<CompletableFuture<Void>> held = new ArrayList<>();
            for (int i = 0; i < HELD; i++) {
                held.add(a.submit(SingleWrite.of(src, 0, BYTES, stuckDst.descriptor(), (long) i * BYTES)));
            }
            for (int i = 0; i < 64; i++) {
                // one at a time, each behind the held ones in the worker's queue
                a.submit(SingleWrite.of(src, 0, BYTES, liveDst.descriptor(), (long) i * BYTES))
                        .get(10, TimeUnit.SECONDS);
            }
            assertEveryByte(liveDst.segment(), (byte) 0x5A, "every write to the live peer landed");
            for (CompletableFuture<Void> f : held) {
                assertFalse(f.isDone(), "a write to the refusing peer ended while it refused: " + f);
            }
            assertEveryByte(stuckDst.segment(), (byte) 0, "nothing reached the refusing peer");

            RefusingPeerProvider.refused = null;
            for (CompletableFuture<Void> f : held) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertEveryByte(stuckDst.segment(), (byte) 0x5A, "the held writes landed once the peer took posts again");
        }
    }

    private static TransferEngine engine(String name) {
        return TransferEngine.builder().provider("refusing-peer").name(name).transferTimeout(Duration.ofSeconds(60))
                .build();
    }

    private static void assertEveryByte(MemorySegment segment, byte expected, String what) {
        for (long i = 0; i < segment.byteSize(); i++) {
            if (segment.get(JAVA_BYTE, i) != expected) {
                assertEquals(expected, segment.get(JAVA_BYTE, i), what + " (byte " + i + ")");
            }
        }
    }
}
