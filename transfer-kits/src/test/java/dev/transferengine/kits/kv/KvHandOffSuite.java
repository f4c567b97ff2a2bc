package dev.transferengine.kits.kv;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The KV hand-off on one provider, every rank its own engine in this process: bytes land where {@link KvSchedule}
 * says and nowhere else, imm counts match, a confirmed cancel leaves no page written afterwards, a silent
 * prefiller is detected by the heartbeat and its counters removed, a failed write cancels the rest.
 */
public abstract class KvHandOffSuite {
    /** 3 layers, 8 KV heads of dim 16, bf16, 16-token pages: 512-byte head blocks. */
    static final KvLayout LAYOUT = new KvLayout(3, 8, 16, 2, 16);
    static final int CAPACITY = 16;
    /** 100 tokens: 7 pages, the last one partly filled; 48-token chunks: 3 chunks of 3, 3 and 1 pages. */
    static final int TOKENS = 100;
    static final int CHUNK_TOKENS = 48;
    static final long CONTEXT_OFFSET = 24;
    static final Duration WAIT = Duration.ofSeconds(60);

    /** A fresh engine of the provider under test. */
    protected abstract TransferEngine.Builder engine(String name);

    /**
     * The decoder's options in the silent-prefiller test: a 50 ms heartbeat and a 600 ms timeout, so that the test
     * is quick. A provider whose live peers can stay silent longer than that (the Soft-RoCE guest runs under TCG)
     * gives a longer timeout; the dead rank must still be the one reported lost.
     */
    protected KvDecoder.Options silentPrefillerOptions() {
        return new KvDecoder.Options(Duration.ofMillis(50), Duration.ofMillis(600), 0x4B56_0000);
    }

    KvRig rig(int prefillTp, int decodeTp, KvDecoder.Options options) {
        return new KvRig(name -> engine(name).name(name).build(), LAYOUT, prefillTp, decodeTp, CAPACITY, CHUNK_TOKENS,
                options);
    }

    @ParameterizedTest(name = "prefill TP {0} -> decode TP {1}")
    @CsvSource({"1, 1", "2, 4", "4, 2", "8, 2"})
    void everyByteLandsWhereTheScheduleSaysAndImmCountsMatch(int prefillTp, int decodeTp) throws Exception {
        try (KvRig rig = rig(prefillTp, decodeTp, KvDecoder.Options.defaults())) {
            Set<Integer> strayImms = ConcurrentHashMap.newKeySet();
            rig.decodeEngines.forEach(e -> e.onImm(strayImms::add));
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), TOKENS, pages, CONTEXT_OFFSET,
                    KvRig.CONTEXT_BYTES);
            rig.prefillAll();
            t.await(WAIT);

            assertEquals(KvTransfer.State.DONE, t.state());
            int sourcesPerDecoderRank = Math.max(1, prefillTp / decodeTp);
            for (int d = 0; d < decodeTp; d++) {
                long expected = (long) LAYOUT.layers() * 2 * pages.length * sourcesPerDecoderRank + 1;
                assertEquals(expected, t.expectedImms(d), "decoder rank " + d + " expected imms");
                assertEquals(expected, t.countedImms(d), "decoder rank " + d + " counted imms");
                KvCache cache = rig.decodeCaches.get(d);
                assertNull(KvPattern.firstMismatch(cache, pages, KvRig.SEED, LAYOUT.layers()));
                assertOnlyRequestPagesWritten(cache, pages);
                assertContext(rig, d, d % prefillTp);
            }
            waitFor(() -> rig.prefillers.stream().allMatch(p -> p.activeJobs() == 0), "prefillers idle");
            assertTrue(strayImms.isEmpty(), "imms beyond the expected counts: " + strayImms);
            assertEquals(0, rig.decoder.activeTransfers());
        }
    }

    @Test
    void aConfirmedCancelLeavesNoPageWrittenAfterwards() throws Exception {
        try (KvRig rig = rig(2, 4, KvDecoder.Options.defaults())) {
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), TOKENS, pages, CONTEXT_OFFSET,
                    KvRig.CONTEXT_BYTES);
            List<KvPrefillJob> jobs = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                KvPrefillJob job = rig.nextJob(p);
                jobs.add(job);
                KvRig.runLayers(job, 1);
            }

            assertEquals(KvTransfer.State.CANCELLED, t.cancel().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            List<byte[]> atConfirmation = snapshot(rig);
            for (int p = 0; p < 2; p++) {
                KvPrefillJob job = jobs.get(p);
                assertTrue(job.isStopped());
                for (int c = 0; c < job.chunkCount(); c++) {
                    for (int l = 1; l < LAYOUT.layers(); l++) {
                        assertFalse(job.layerDone(c, l), "a cancelled job still wrote layer " + l);
                    }
                }
                assertFalse(job.contextReady(rig.prefillContexts.get(p), 0));
            }
            waitFor(() -> rig.prefillers.stream().allMatch(p -> p.activeJobs() == 0), "prefillers idle");

            List<byte[]> after = snapshot(rig);
            for (int d = 0; d < 4; d++) {
                assertArrayEquals(atConfirmation.get(d), after.get(d), "decoder rank " + d + " changed after the cancel");
                KvCache cache = rig.decodeCaches.get(d);
                assertNull(KvPattern.firstMismatch(cache, pages, KvRig.SEED, 1), "layer 0 landed before the cancel");
                for (int page : pages) {
                    for (int l = 1; l < LAYOUT.layers(); l++) {
                        assertTrue(KvRig.untouched(cache, l, page), "layer " + l + " page " + page + " was written");
                    }
                }
                assertFalse(rig.decodeEngines.get(d).removeImmCounter(t.imm()), "the counter was left registered");
            }
            assertThrows(CancellationException.class, () -> t.await(WAIT));
            assertEquals(0, rig.decoder.activeTransfers());
        }
    }

    @Test
    void aSilentPrefillerIsLostAndItsCountersRemoved() throws Exception {
        try (KvRig rig = rig(2, 2, silentPrefillerOptions())) {
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), TOKENS, pages, CONTEXT_OFFSET,
                    KvRig.CONTEXT_BYTES);
            KvRig.runLayers(rig.nextJob(0), 1);
            rig.nextJob(1);
            rig.prefillers.get(1).close();
            rig.prefillEngines.get(1).close();

            assertEquals(KvTransfer.State.LOST, t.settled().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            KvTransferException e = assertThrows(KvTransferException.class, () -> t.await(WAIT));
            assertEquals(KvTransfer.State.LOST, e.state());
            assertEquals(ErrorCategory.PEER_UNREACHABLE, e.category());
            assertTrue(e.getMessage().contains("prefiller rank 1"), e.getMessage());
            for (TransferEngine engine : rig.decodeEngines) {
                assertFalse(engine.removeImmCounter(t.imm()), "the counter was left registered");
                engine.expectImms(t.imm(), 1, () -> { }).cancel();
            }
        }
    }

    @Test
    void aFailedWriteCancelsTheRestAndFailsTheTransfer() throws Exception {
        try (KvRig rig = rig(1, 1, KvDecoder.Options.defaults())) {
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(rig.prefillAddresses(), TOKENS, pages, CONTEXT_OFFSET,
                    KvRig.CONTEXT_BYTES);
            KvPrefillJob job = rig.nextJob(0);
            KvRig.runLayers(job, LAYOUT.layers());
            rig.decodeContexts.getFirst().close();
            job.contextReady(rig.prefillContexts.getFirst(), 0);

            assertEquals(KvTransfer.State.FAILED, t.settled().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            KvTransferException e = assertThrows(KvTransferException.class, () -> t.await(WAIT));
            assertEquals(KvTransfer.State.FAILED, e.state());
            assertTrue(job.isStopped());
            assertNull(KvPattern.firstMismatch(rig.decodeCaches.getFirst(), pages, KvRig.SEED, LAYOUT.layers()),
                    "the KV writes confirmed before the failure all landed");
            assertFalse(rig.decodeEngines.getFirst().removeImmCounter(t.imm()));
        }
    }

    private static void assertOnlyRequestPagesWritten(KvCache cache, int[] pages) {
        for (int page = 0; page < cache.capacityPages(); page++) {
            int p = page;
            if (Arrays.stream(pages).noneMatch(x -> x == p)) {
                for (int l = 0; l < cache.layout().layers(); l++) {
                    assertTrue(KvRig.untouched(cache, l, page), "rank " + cache.rank() + " layer " + l + " page "
                            + page + " is not in the request but was written");
                }
            }
        }
    }

    private static void assertContext(KvRig rig, int decoderRank, int fromPrefillRank) {
        MemorySegment s = rig.decodeContexts.get(decoderRank).segment();
        for (long i = 0; i < s.byteSize(); i++) {
            long rel = i - CONTEXT_OFFSET;
            byte want = rel >= 0 && rel < KvRig.CONTEXT_BYTES ? KvRig.contextByte(fromPrefillRank, rel) : KvRig.SENTINEL;
            if (s.get(ValueLayout.JAVA_BYTE, i) != want) {
                fail("decoder rank " + decoderRank + " context byte " + i + " is " + s.get(ValueLayout.JAVA_BYTE, i)
                        + ", want " + want + " (from prefiller rank " + fromPrefillRank + ")");
            }
        }
    }

    private static List<byte[]> snapshot(KvRig rig) {
        List<byte[]> out = new ArrayList<>();
        for (int d = 0; d < rig.decodeCaches.size(); d++) {
            MemorySegment kv = rig.decodeCaches.get(d).region().segment();
            MemorySegment ctx = rig.decodeContexts.get(d).segment();
            byte[] all = new byte[(int) (kv.byteSize() + ctx.byteSize())];
            MemorySegment.copy(kv, ValueLayout.JAVA_BYTE, 0, all, 0, (int) kv.byteSize());
            MemorySegment.copy(ctx, ValueLayout.JAVA_BYTE, 0, all, (int) kv.byteSize(), (int) ctx.byteSize());
            out.add(all);
        }
        return out;
    }

    static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no " + what + " within " + WAIT);
            }
            Thread.sleep(5);
        }
    }
}
