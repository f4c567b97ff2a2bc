package dev.transferengine.kits.kv;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MalformedEncodingException;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kit's messages and its checks on loopback: the wire form, bad input refused with typed exceptions before
 * anything is sent, and the prefiller's answers to messages that arrive out of order.
 */
class KvProtocolTest {
    private static final KvLayout LAYOUT = KvHandOffSuite.LAYOUT;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static KvRig rig(int prefillTp, int decodeTp) {
        return new KvRig(name -> TransferEngine.builder().name(name).build(), LAYOUT, prefillTp, decodeTp,
                KvHandOffSuite.CAPACITY, KvHandOffSuite.CHUNK_TOKENS, KvDecoder.Options.defaults());
    }

    @Test
    void everyMessageSurvivesItsWireForm() {
        try (KvRig rig = rig(1, 2)) {
            DomainAddress from = rig.decoder.address();
            KvMessage.DecoderTarget target = new KvMessage.DecoderTarget(
                    rig.decodeCaches.get(1).region().descriptor(), 16, rig.decodeContexts.get(1).descriptor(), 24);
            KvMessage.DecoderTarget noContext = new KvMessage.DecoderTarget(
                    rig.decodeCaches.get(0).region().descriptor(), 16, null, 0);
            KvMessage.Request r = new KvMessage.Request(7, from, 0x4B56_0003, 100, LAYOUT, List.of(noContext, target),
                    4096, new int[] {5, 3, 9});
            KvMessage.Request back = (KvMessage.Request) KvWire.decode(KvWire.encode(r));
            assertEquals(7, back.requestId());
            assertEquals(from, back.from());
            assertEquals(0x4B56_0003, back.imm());
            assertEquals(100, back.tokens());
            assertEquals(LAYOUT, back.layout());
            assertEquals(List.of(noContext, target), back.targets());
            assertEquals(4096, back.contextBytes());
            assertArrayEquals(new int[] {5, 3, 9}, back.pages());

            KvMessage.Cancelled c = (KvMessage.Cancelled) KvWire.decode(KvWire.encode(
                    new KvMessage.Cancelled(9, from, new long[] {3, 0, 41})));
            assertArrayEquals(new long[] {3, 0, 41}, c.immsPerDecoderRank());
            assertEquals(new KvMessage.Cancel(9, from), KvWire.decode(KvWire.encode(new KvMessage.Cancel(9, from))));
            assertEquals(new KvMessage.Failed(9, from, "nope ü"),
                    KvWire.decode(KvWire.encode(new KvMessage.Failed(9, from, "nope ü"))));
            assertEquals(new KvMessage.Ping(from), KvWire.decode(KvWire.encode(new KvMessage.Ping(from))));
            assertEquals(new KvMessage.Pong(from), KvWire.decode(KvWire.encode(new KvMessage.Pong(from))));

            byte[] wire = KvWire.encode(r);
            for (int cut = 0; cut < wire.length; cut += 7) {
                byte[] truncated = Arrays.copyOf(wire, cut);
                assertThrows(MalformedEncodingException.class, () -> KvWire.decode(truncated), "cut at " + cut);
            }
            byte[] trailing = Arrays.copyOf(wire, wire.length + 1);
            assertThrows(MalformedEncodingException.class, () -> KvWire.decode(trailing));
            byte[] badType = wire.clone();
            badType[2] = 99;
            assertThrows(MalformedEncodingException.class, () -> KvWire.decode(badType));
            byte[] hugeCount = KvWire.encode(new KvMessage.Cancelled(9, from, new long[0]));
            hugeCount[hugeCount.length - 4] = (byte) 0xFF;
            hugeCount[hugeCount.length - 1] = 0x7F;
            assertThrows(MalformedEncodingException.class, () -> KvWire.decode(hugeCount));
        }
    }

    @Test
    void badRequestsAreRefusedBeforeAnythingIsSent() {
        try (KvRig rig = rig(2, 2)) {
            List<DomainAddress> prefillers = rig.prefillAddresses();
            int[] pages = rig.decoderPages(7);
            assertThrows(InvalidRequestException.class,
                    () -> rig.decoder.requestPrefill(prefillers, 100, Arrays.copyOf(pages, 6), 0, 0), "page count");
            int[] outside = pages.clone();
            outside[3] = KvHandOffSuite.CAPACITY;
            assertThrows(InvalidRequestException.class, () -> rig.decoder.requestPrefill(prefillers, 100, outside, 0, 0));
            int[] twice = pages.clone();
            twice[3] = twice[4];
            assertThrows(InvalidRequestException.class, () -> rig.decoder.requestPrefill(prefillers, 100, twice, 0, 0));
            List<DomainAddress> three = List.of(prefillers.get(0), prefillers.get(1), rig.decoder.address());
            assertThrows(InvalidRequestException.class, () -> rig.decoder.requestPrefill(three, 100, pages, 0, 0),
                    "3 prefiller ranks do not split 8 heads");
            long contextRegion = rig.decodeContexts.getFirst().lengthBytes();
            assertThrows(InvalidRequestException.class,
                    () -> rig.decoder.requestPrefill(prefillers, 100, pages, 1, contextRegion), "context past its region");
            int[] tooMany = new int[10_000];
            Arrays.setAll(tooMany, i -> i);
            assertThrows(InvalidRequestException.class,
                    () -> rig.decoder.requestPrefill(prefillers, 10_000L * 16, tooMany, 0, 0), "pages past capacity");
            assertEquals(0, rig.decoder.activeTransfers());
            assertTrue(rig.jobs.stream().allMatch(BlockingQueue::isEmpty), "a refused request reached a prefiller");

            try (Arena arena = Arena.ofConfined()) {
                var small = rig.decodeEngines.getFirst().register(arena.allocate(4096), Access.REMOTE_WRITE);
                assertThrows(InvalidRequestException.class, () -> new KvCache(LAYOUT, 0, 2, small, 16));
                assertThrows(InvalidRequestException.class, () -> new KvCache(LAYOUT, 2, 2, small, 1));
                assertThrows(InvalidRequestException.class, () -> new KvCache(LAYOUT, 0, 3, small, 1));
                small.close();
            }
            assertThrows(InvalidRequestException.class, () -> new KvLayout(0, 8, 128, 2, 16));
            assertThrows(InvalidRequestException.class, () -> new KvPrefiller(rig.prefillEngines.getFirst(),
                    rig.prefillCaches.getFirst(), 20, n -> new int[n], job -> { }));
            rig.decoder.close();
            assertThrows(ClosedException.class, () -> rig.decoder.requestPrefill(prefillers, 100, pages, 0, 0));
        }
    }

    @Test
    void aRequestTooLargeForOneMessageIsRefused() {
        KvLayout tiny = new KvLayout(1, 1, 4, 2, 16);
        try (KvRig rig = new KvRig(name -> TransferEngine.builder().name(name).build(), tiny, 1, 1, 9001, 16,
                KvDecoder.Options.defaults())) {
            int[] pages = rig.decoderPages(9000);
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> rig.decoder.requestPrefill(rig.prefillAddresses(), 9000L * 16, pages, 0, 0));
            assertTrue(e.getMessage().contains("message limit"), e.getMessage());
            assertEquals(0, rig.decoder.activeTransfers());
            KvTransfer fits = rig.decoder.requestPrefill(rig.prefillAddresses(), 7000L * 16,
                    Arrays.copyOf(pages, 7000), 0, 0);
            KvRig.runLayers(rig.nextJob(0), 1);
            fits.await(WAIT);
        }
    }

    @Test
    void aJobRefusesLayersOutOfRangeOrTwice() throws Exception {
        try (KvRig rig = rig(1, 1)) {
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), 100, rig.decoderPages(7), 0, 0);
            KvPrefillJob job = rig.nextJob(0);
            assertEquals(3, job.chunkCount());
            assertThrows(InvalidRequestException.class, () -> job.layerDone(3, 0));
            assertThrows(InvalidRequestException.class, () -> job.layerDone(0, LAYOUT.layers()));
            assertTrue(job.layerDone(0, 0));
            assertThrows(InvalidRequestException.class, () -> job.layerDone(0, 0));
            for (int c = 0; c < job.chunkCount(); c++) {
                for (int l = c == 0 ? 1 : 0; l < LAYOUT.layers(); l++) {
                    assertTrue(job.layerDone(c, l));
                }
            }
            t.await(WAIT);
            assertEquals(KvTransfer.State.DONE, t.state());
        }
    }

    @Test
    void aPrefillerWithAnotherLayoutRefusesAndTheTransferFails() throws Exception {
        KvLayout other = new KvLayout(LAYOUT.layers() + 1, LAYOUT.kvHeads(), LAYOUT.headDim(),
                LAYOUT.bytesPerElement(), LAYOUT.pageTokens());
        try (KvRig prefill = new KvRig(name -> TransferEngine.builder().name(name).build(), other, 1, 0, 16, 48,
                KvDecoder.Options.defaults()); KvRig decode = rig(0, 1)) {
            KvTransfer t = decode.decoder.requestPrefill(prefill.prefillAddresses(), 100, decode.decoderPages(7), 0, 0);
            assertEquals(KvTransfer.State.FAILED, t.settled().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            KvTransferException e = assertThrows(KvTransferException.class, () -> t.await(WAIT));
            assertTrue(e.getMessage().contains("layout"), e.getMessage());
            assertTrue(prefill.jobs.getFirst().isEmpty());
        }
    }

    @Test
    void aCancelThatOvertakesItsRequestLeavesATombstone() throws Exception {
        try (KvRig rig = rig(1, 1);
             TransferEngine fake = TransferEngine.builder().name("fake-decoder").build()) {
            BlockingQueue<KvMessage> answers = new LinkedBlockingQueue<>();
            try (KvMessenger messenger = new KvMessenger(fake, answers::add)) {
                DomainAddress prefiller = rig.prefillAddresses().getFirst();
                messenger.send(prefiller, new KvMessage.Cancel(42, messenger.address()));
                KvMessage.Cancelled c = assertInstanceOf(KvMessage.Cancelled.class, next(answers));
                assertEquals(42, c.requestId());
                assertEquals(0, c.immsPerDecoderRank().length);

                KvMessage.DecoderTarget target = new KvMessage.DecoderTarget(
                        rig.decodeCaches.getFirst().region().descriptor(), 16, null, 0);
                messenger.send(prefiller, new KvMessage.Request(42, messenger.address(), 0x4B56_FFFF, 100, LAYOUT,
                        List.of(target), 0, rig.decoderPages(7)));
                messenger.send(prefiller, new KvMessage.Ping(messenger.address()));
                assertInstanceOf(KvMessage.Pong.class, next(answers));
                assertTrue(rig.jobs.getFirst().isEmpty(), "the cancelled request was started");
                assertEquals(0, rig.prefillers.getFirst().activeJobs());
            }
        }
    }

    @Test
    void aLateCancelOfAFinishedRequestIsAnsweredWithItsImmCounts() throws Exception {
        try (KvRig rig = rig(2, 1);
             TransferEngine fake = TransferEngine.builder().name("fake-decoder").build()) {
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), 100, rig.decoderPages(7), 0,
                    KvRig.CONTEXT_BYTES);
            rig.prefillAll();
            t.await(WAIT);
            KvHandOffSuite.waitFor(() -> rig.prefillers.stream().allMatch(p -> p.activeJobs() == 0), "idle");
            BlockingQueue<KvMessage> answers = new LinkedBlockingQueue<>();
            try (KvMessenger messenger = new KvMessenger(fake, answers::add)) {
                long total = 0;
                for (int p = 0; p < 2; p++) {
                    messenger.send(rig.prefillAddresses().get(p), new KvMessage.Cancel(t.requestId(), messenger.address()));
                    KvMessage.Cancelled c = assertInstanceOf(KvMessage.Cancelled.class, next(answers));
                    total += c.immsPerDecoderRank()[0];
                }
                assertEquals(t.expectedImms(0), total, "the two ranks' counts add up to what the decoder counted");
            }
        }
    }

    @Test
    void writesThatKeepLandingCountAsAHeartbeat() throws Exception {
        KvDecoder.Options strict = new KvDecoder.Options(Duration.ofMillis(50), Duration.ofMillis(1500), 0x4B56_0000);
        try (KvRig rig = new KvRig(name -> TransferEngine.builder().name(name).build(), LAYOUT, 1, 1,
                KvHandOffSuite.CAPACITY, KvHandOffSuite.CHUNK_TOKENS, strict)) {
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), 100, rig.decoderPages(7), 0, 0);
            KvPrefillJob job = rig.nextJob(0);
            rig.prefillers.getFirst().close();
            // No pong from here on; 9 layer steps 400 ms apart span 3.6 s, well past the 1.5 s timeout, and each
            // step lands writes well within it.
            for (int c = 0; c < job.chunkCount(); c++) {
                for (int l = 0; l < LAYOUT.layers(); l++) {
                    assertTrue(job.layerDone(c, l), "chunk " + c + " layer " + l + ": the transfer was given up");
                    Thread.sleep(400);
                }
            }
            t.await(WAIT);
            assertEquals(KvTransfer.State.DONE, t.state());
        }
    }

    @Test
    void pagesAreReleasedOnlyWhenTheConfirmedImmsHaveArrived() throws Exception {
        try (KvRig rig = rig(0, 1);
             TransferEngine fake = TransferEngine.builder().name("fake-prefiller").build()) {
            BlockingQueue<KvMessage> inbox = new LinkedBlockingQueue<>();
            KvMessenger[] self = new KvMessenger[1];
            try (KvMessenger messenger = new KvMessenger(fake, m -> {
                if (m instanceof KvMessage.Ping ping) {
                    self[0].send(ping.from(), new KvMessage.Pong(self[0].address()));
                } else {
                    inbox.add(m);
                }
            })) {
                self[0] = messenger;
                KvTransfer t = rig.decoder.requestPrefill(List.of(messenger.address()), 100, rig.decoderPages(7), 0, 0);
                KvMessage.Request r = assertInstanceOf(KvMessage.Request.class, next(inbox));
                t.cancel();
                assertInstanceOf(KvMessage.Cancel.class, next(inbox));
                // The fake prefiller says its completed writes carried 3 imms that have not arrived yet.
                messenger.send(rig.decoder.address(), new KvMessage.Cancelled(r.requestId(), messenger.address(),
                        new long[] {3}));
                assertThrows(TimeoutException.class,
                        () -> t.settled().get(500, TimeUnit.MILLISECONDS), "released before the imms arrived");
                for (int i = 0; i < 3; i++) {
                    assertEquals(KvTransfer.State.CANCELLING, t.state());
                    fake.submit(ImmWrite.of(r.targets().getFirst().kv(), r.imm())).get(30,
                            TimeUnit.SECONDS);
                }
                assertEquals(KvTransfer.State.CANCELLED, t.settled().get(WAIT.toSeconds(), TimeUnit.SECONDS));
                assertEquals(3, t.countedImms(0));
            }
        }
    }

    private static KvMessage next(BlockingQueue<KvMessage> q) throws InterruptedException {
        KvMessage m = q.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(m, "no answer within " + WAIT);
        return m;
    }
}
