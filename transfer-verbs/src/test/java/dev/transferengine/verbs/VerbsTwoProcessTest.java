package dev.transferengine.verbs;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.testing.ChildJvm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static dev.transferengine.verbs.ReceiverProcessMain.answer;
import static dev.transferengine.verbs.ReceiverProcessMain.call;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two engines in two processes that know each other only by the addresses and descriptors one prints and the
 * other parses: single, paged, scatter and imm-only writes with imm counts, and a SEND; then the receiver dies
 * without closing anything, and requests to it fail with a typed error within the deadline.
 */
@Tag(SoftRoce.TAG)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerbsTwoProcessTest {
    private static final long SECONDS = 60;
    private static final int IMM_BASE = 0x5EED_0000;

    private ChildJvm peer;
    private TransferEngine engine;
    private Arena arena;
    private MemorySegment source;
    private MemoryRegion src;
    private DomainAddress peerAddress;
    private RemoteRegion dst;

    @BeforeAll
    void start() throws Exception {
        SoftRoce.requireDevice();
        peer = ReceiverProcessMain.start();
        // a dead peer is noticed after 4 s without acknowledgements, and reconnecting gives up after 5 s: both
        // well inside the engine's 30 s transfer timeout, so the requests fail as PEER_UNREACHABLE, not TIMEOUT
        engine = TransferEngine.builder().provider("verbs").groups(1, 1).name("sender")
                .providerOption("verbs.peerTimeoutMillis", "4000")
                .providerOption("verbs.handshakeTimeoutMillis", "5000").build();
        arena = Arena.ofShared();
        source = arena.allocate(ReceiverProcessMain.REGION_BYTES, 4096);
        byte[] random = new byte[ReceiverProcessMain.REGION_BYTES];
        new Random(20261128).nextBytes(random);
        MemorySegment.copy(random, 0, source, JAVA_BYTE, 0, random.length);
        src = engine.register(source, Access.LOCAL);
        String[] ready = answer(peer).split(" ");
        assertEquals("READY", ready[0]);
        peerAddress = DomainAddress.fromHex(ready[1]);
        dst = RemoteRegion.fromHex(ready[2]);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (arena != null) {
                arena.close();
            }
            if (peer != null) {
                peer.close();
            }
        }
    }

    @Test
    @Order(1)
    void enginesInTwoProcessesMoveBytesAndCountImms() throws Exception {
        List<TransferRequest> requests = new ArrayList<>();
        requests.add(SingleWrite.withImm(src, 0, 65536, dst, 0, IMM_BASE + 1));
        int[] pages = new int[16];
        int[] reversed = new int[16];
        for (int i = 0; i < 16; i++) {
            pages[i] = i;
            reversed[i] = 15 - i;
        }
        requests.add(new PagedWrite(4096, src, pages, 4096, 65536, dst, reversed, 4096, 65536,
                OptionalInt.of(IMM_BASE + 2)));
        List<ScatterTarget> targets = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            targets.add(new ScatterTarget(dst, 10_000, 200_000 + 10_000L * i, 200_000 + 10_000L * i));
        }
        requests.add(new Scatter(src, targets, OptionalInt.of(IMM_BASE + 3), ScatterRouting.SHARD_PEERS));
        requests.add(ImmWrite.of(dst, IMM_BASE + 4));
        for (int i = 1; i <= 4; i++) {
            call(peer, "COUNT " + (IMM_BASE + i));
        }
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (TransferRequest r : requests) {
            done.add(engine.submit(r));
        }
        done.add(engine.send(peerAddress, src, 300_000, 1000));
        for (CompletableFuture<Void> f : done) {
            f.get(SECONDS, TimeUnit.SECONDS);
        }
        for (int i = 0; i < requests.size(); i++) {
            call(peer, "AWAIT " + (IMM_BASE + i + 1) + " " + ImmAccounting.immsProduced(requests.get(i), 1));
        }
        assertRemoteBytes(0, 0, 65536, "single write");
        for (int i = 0; i < 16; i++) {
            assertRemoteBytes(65536 + 4096L * i, 65536 + 4096L * (15 - i), 4096, "page " + i);
        }
        for (int i = 0; i < 4; i++) {
            assertRemoteBytes(200_000 + 10_000L * i, 200_000 + 10_000L * i, 10_000, "scatter target " + i);
        }
        assertEquals("MSG 1000 " + ReceiverProcessMain.crc(source.asSlice(300_000, 1000)), call(peer, "MESSAGE"),
                "the message's length and bytes");
    }

    private void assertRemoteBytes(long srcOffset, long dstOffset, long length, String what) {
        assertEquals("CRC " + ReceiverProcessMain.crc(source.asSlice(srcOffset, length)),
                call(peer, "CRC " + dstOffset + " " + length), what);
    }

    @Test
    @Order(2)
    void requestsToAPeerThatDiedFailWithinTheDeadline() throws Exception {
        // connected (the first test, or this write when run alone)
        engine.submit(SingleWrite.of(src, 0, 4096, dst, 0)).get(SECONDS, TimeUnit.SECONDS);
        peer.send("HALT");
        peer.awaitExit();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            pending.add(engine.submit(SingleWrite.withImm(src, 4096L * i, 4096, dst, 4096L * i, IMM_BASE + 9)));
        }
        for (CompletableFuture<Void> f : pending) {
            TransferException e = failure(f);
            assertEquals(ErrorCategory.PEER_UNREACHABLE, e.category(), e::toString);
        }
    }

    private static TransferException failure(CompletableFuture<Void> f) throws InterruptedException {
        try {
            f.get(SECONDS, TimeUnit.SECONDS);
            return fail("a write to a dead peer succeeded");
        } catch (TimeoutException e) {
            return fail("a write to a dead peer did not fail within " + SECONDS + " s");
        } catch (ExecutionException e) {
            return assertInstanceOf(TransferException.class, e.getCause(), "untyped failure");
        }
    }
}
