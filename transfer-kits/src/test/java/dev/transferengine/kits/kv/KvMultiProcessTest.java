package dev.transferengine.kits.kv;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-off between processes: the prefill side (2 ranks) in a child JVM, the decode side (4 ranks) here,
 * on libfabric tcp and shm. A killed prefiller is found by the heartbeat; its counters are removed.
 */
class KvMultiProcessTest {
    static final KvLayout LAYOUT = KvHandOffSuite.LAYOUT;

    @BeforeAll
    static void libfabricPresent() {
        KvProcesses.assumeLibfabric();
    }

    private static KvRig decodeSide(String provider, KvDecoder.Options options) {
        return new KvRig(name -> TransferEngine.builder().provider(provider).name(name).build(), LAYOUT, 0, 4,
                KvHandOffSuite.CAPACITY, KvHandOffSuite.CHUNK_TOKENS, options);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm"})
    void aPrefillerInAnotherProcessHandsOffEveryByte(String provider) throws Exception {
        try (KvRig rig = decodeSide(provider, KvDecoder.Options.defaults());
             KvProcesses.Child child = new KvProcesses.Child(provider, 2, KvHandOffSuite.CAPACITY,
                     KvHandOffSuite.CHUNK_TOKENS, -1, LAYOUT)) {
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(KvHandOffSuite.TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(child.addresses, KvHandOffSuite.TOKENS, pages,
                    KvHandOffSuite.CONTEXT_OFFSET, KvRig.CONTEXT_BYTES);
            t.await(KvProcesses.DEADLINE);
            for (int d = 0; d < 4; d++) {
                KvCache cache = rig.decodeCaches.get(d);
                assertEquals(t.expectedImms(d), t.countedImms(d));
                assertEquals((long) LAYOUT.layers() * 2 * pages.length + 1, t.expectedImms(d));
                assertNull(KvPattern.firstMismatch(cache, pages, KvRig.SEED, LAYOUT.layers()));
                for (int l = 0; l < LAYOUT.layers(); l++) {
                    for (int page = 0; page < KvHandOffSuite.CAPACITY; page++) {
                        int p = page;
                        boolean requested = Arrays.stream(pages).anyMatch(x -> x == p);
                        assertEquals(!requested, KvRig.untouched(cache, l, page), "layer " + l + " page " + page);
                    }
                }
                MemorySegment ctx = rig.decodeContexts.get(d).segment();
                for (long i = 0; i < KvRig.CONTEXT_BYTES; i++) {
                    assertEquals(KvRig.contextByte(d % 2, i),
                            ctx.get(ValueLayout.JAVA_BYTE, KvHandOffSuite.CONTEXT_OFFSET + i));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm"})
    void aKilledPrefillerIsLostItsCountersRemovedAndNothingLandsAfterward(String provider) throws Exception {
        KvDecoder.Options fast = new KvDecoder.Options(Duration.ofMillis(50), Duration.ofSeconds(1), 0x4B56_0000);
        try (KvRig rig = decodeSide(provider, fast);
             KvProcesses.Child child = new KvProcesses.Child(provider, 2, KvHandOffSuite.CAPACITY,
                     KvHandOffSuite.CHUNK_TOKENS, 1, LAYOUT)) {
            int[] pages = rig.decoderPages(LAYOUT.pagesFor(KvHandOffSuite.TOKENS));
            KvTransfer t = rig.decoder.requestPrefill(child.addresses, KvHandOffSuite.TOKENS, pages,
                    KvHandOffSuite.CONTEXT_OFFSET, KvRig.CONTEXT_BYTES);
            child.expect("STALLED");
            child.expect("STALLED");
            child.kill();

            assertEquals(KvTransfer.State.LOST, t.settled().get(KvProcesses.DEADLINE.toSeconds(), TimeUnit.SECONDS));
            KvTransferException e = assertThrows(KvTransferException.class, () -> t.await(KvProcesses.DEADLINE));
            assertEquals(KvTransfer.State.LOST, e.state());
            for (int d = 0; d < 4; d++) {
                assertTrue(t.countedImms(d) < t.expectedImms(d), "only the first layer was written");
                assertFalse(rig.decodeEngines.get(d).removeImmCounter(t.imm()), "the counter was left registered");
                KvCache cache = rig.decodeCaches.get(d);
                for (int page : pages) {
                    for (int l = 1; l < LAYOUT.layers(); l++) {
                        assertTrue(KvRig.untouched(cache, l, page), "layer " + l + " page " + page + " was written");
                    }
                }
            }
        }
    }
}
