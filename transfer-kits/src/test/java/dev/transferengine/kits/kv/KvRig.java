package dev.transferengine.kits.kv;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A prefill side and a decode side in one process, each tensor-parallel rank with its own engine: prefiller
 * caches hold {@link KvPattern} (prompt page {@code i} in cache page {@code capacity - 1 - i}), decoder caches and
 * contexts start as {@link #SENTINEL} bytes. Jobs the prefillers receive wait in per-rank queues for the test to
 * drive; a side of size 0 is left out (no decoder: {@link #decoder} is null). Test plumbing of the kv package (the weights and MoE kits keep their own).
 */
final class KvRig implements AutoCloseable {
    static final byte SENTINEL = 0x5A;
    static final long SEED = 0x4B56_1234L;
    static final long CONTEXT_BYTES = 4096 + 24;

    final KvLayout layout;
    final int capacityPages;
    final List<TransferEngine> prefillEngines = new ArrayList<>();
    final List<TransferEngine> decodeEngines = new ArrayList<>();
    final List<KvCache> prefillCaches = new ArrayList<>();
    final List<KvCache> decodeCaches = new ArrayList<>();
    final List<MemoryRegion> prefillContexts = new ArrayList<>();
    final List<MemoryRegion> decodeContexts = new ArrayList<>();
    final List<KvPrefiller> prefillers = new ArrayList<>();
    final List<BlockingQueue<KvPrefillJob>> jobs = new ArrayList<>();
    final KvDecoder decoder;
    private final Arena arena = Arena.ofShared();

    interface Engines {
        TransferEngine open(String name);
    }

    KvRig(Engines engines, KvLayout layout, int prefillTp, int decodeTp, int capacityPages, int chunkTokens,
          KvDecoder.Options options) {
        this.layout = layout;
        this.capacityPages = capacityPages;
        try {
            for (int p = 0; p < prefillTp; p++) {
                TransferEngine e = engines.open("kv-prefill-" + p);
                prefillEngines.add(e);
                KvCache cache = new KvCache(layout, p, prefillTp, register(e, KvCache.requiredBytes(layout, prefillTp,
                        capacityPages), (byte) 0), capacityPages);
                prefillCaches.add(cache);
                KvPattern.fill(cache, sourcePages(capacityPages), SEED);
                MemoryRegion ctx = register(e, CONTEXT_BYTES, (byte) 0);
                fillContext(ctx.segment(), p);
                prefillContexts.add(ctx);
                BlockingQueue<KvPrefillJob> queue = new LinkedBlockingQueue<>();
                jobs.add(queue);
                prefillers.add(new KvPrefiller(e, cache, chunkTokens, this::sourcePages, queue::add));
            }
            List<KvDecoder.Rank> ranks = new ArrayList<>();
            for (int d = 0; d < decodeTp; d++) {
                TransferEngine e = engines.open("kv-decode-" + d);
                decodeEngines.add(e);
                KvCache cache = new KvCache(layout, d, decodeTp, register(e, KvCache.requiredBytes(layout, decodeTp,
                        capacityPages), SENTINEL), capacityPages);
                decodeCaches.add(cache);
                MemoryRegion ctx = register(e, 2 * CONTEXT_BYTES, SENTINEL);
                decodeContexts.add(ctx);
                ranks.add(new KvDecoder.Rank(e, cache, ctx));
            }
            decoder = decodeTp == 0 ? null : new KvDecoder(ranks, options);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The prefiller's pages for a prompt of {@code n} pages: from the top of the cache down. */
    int[] sourcePages(int n) {
        return sourcePages(capacityPages, n);
    }

    static int[] sourcePages(int capacityPages, int n) {
        int[] pages = new int[n];
        for (int i = 0; i < n; i++) {
            pages[i] = capacityPages - 1 - i;
        }
        return pages;
    }

    /** Byte {@code i} of prefiller rank {@code prefillRank}'s context: each rank's differs. */
    static byte contextByte(int prefillRank, long i) {
        return (byte) (prefillRank * 31 + i * 7 + 1);
    }

    static void fillContext(MemorySegment s, int prefillRank) {
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, contextByte(prefillRank, i));
        }
    }

    private MemoryRegion register(TransferEngine e, long bytes, byte fill) {
        MemorySegment s = arena.allocate(bytes, 4096);
        s.fill(fill);
        return e.register(s, Access.REMOTE_WRITE);
    }

    List<DomainAddress> prefillAddresses() {
        return prefillers.stream().map(KvPrefiller::address).toList();
    }

    /** The next job prefiller rank {@code p} received (fails after 30 s). */
    KvPrefillJob nextJob(int p) {
        try {
            KvPrefillJob job = jobs.get(p).poll(30, TimeUnit.SECONDS);
            assertNotNull(job, "prefiller rank " + p + " got no request");
            return job;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs the first {@code layers} layers of every chunk of {@code job} (chunk-major, as a chunked prefill does). */
    static void runLayers(KvPrefillJob job, int layers) {
        for (int c = 0; c < job.chunkCount(); c++) {
            for (int l = 0; l < layers; l++) {
                job.layerDone(c, l);
            }
        }
    }

    /** Runs the whole job on every prefiller rank, context included. */
    void prefillAll() {
        for (int p = 0; p < prefillers.size(); p++) {
            KvPrefillJob job = nextJob(p);
            runLayers(job, layout.layers());
            job.contextReady(prefillContexts.get(p), 0);
        }
    }

    /** {@code n} distinct decoder pages, scattered and out of order ({@code capacityPages} must be prime to 15). */
    int[] decoderPages(int n) {
        if (n > capacityPages || capacityPages % 3 == 0 || capacityPages % 5 == 0) {
            fail("capacity " + capacityPages + " cannot give " + n + " scattered pages");
        }
        int[] pages = new int[n];
        for (int i = 0; i < n; i++) {
            pages[i] = ((i * 5 + 2) % capacityPages) * 3 % capacityPages;
        }
        return pages;
    }

    /** Whether every byte of {@code page} in {@code layer} of {@code cache} still holds the sentinel. */
    static boolean untouched(KvCache cache, int layer, int page) {
        MemorySegment s = cache.region().segment().asSlice(cache.layerOffset(layer) + page * cache.pageBytes(),
                cache.pageBytes());
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != SENTINEL) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (decoder != null) {
            decoder.close();
        }
        prefillers.forEach(KvPrefiller::close);
        decodeEngines.forEach(TransferEngine::close);
        prefillEngines.forEach(TransferEngine::close);
        arena.close();
    }
}
