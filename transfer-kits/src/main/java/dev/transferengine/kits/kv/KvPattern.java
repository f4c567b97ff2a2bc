package dev.transferengine.kits.kv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A recognisable KV content for tests and demos: every 8-byte word of the K or V block of global head {@code h}
 * in prompt page {@code i} of layer {@code l} gets a value derived from {@code (seed, l, i, kv, h, word)}, so a
 * decoder rank can check, whatever the two tensor-parallel sizes, that every block it holds came from the right
 * layer, page, head and half. Host memory only (it reads and writes the region's segment); a head block's bytes
 * past its last whole 8-byte word are neither written nor checked. Stateless.
 */
public final class KvPattern {
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;

    private KvPattern() {
    }

    /** Writes the pattern of the prompt into {@code cache}: prompt page {@code i} in cache page {@code pages[i]}. */
    public static void fill(KvCache cache, int[] pages, long seed) {
        MemorySegment s = cache.region().segment();
        forEachWord(cache, pages, (layer, page, kv, head, words, offset) -> {
            for (int w = 0; w < words; w++) {
                s.set(WORD, offset + 8L * w, value(seed, cache.layout(), layer, page, kv, head, w));
            }
            return true;
        });
    }

    /**
     * Checks layers {@code [0, layers)} of the prompt in {@code cache} ({@code pages} as in {@link #fill}).
     *
     * @return null when every word matches, else where the first mismatch is
     */
    public static String firstMismatch(KvCache cache, int[] pages, long seed, int layers) {
        MemorySegment s = cache.region().segment();
        String[] found = new String[1];
        forEachWord(cache, pages, (layer, page, kv, head, words, offset) -> {
            if (layer >= layers) {
                return true;
            }
            for (int w = 0; w < words; w++) {
                if (s.get(WORD, offset + 8L * w) != value(seed, cache.layout(), layer, page, kv, head, w)) {
                    found[0] = "rank " + cache.rank() + ": layer " + layer + ", prompt page " + page + " (cache page "
                            + pages[page] + "), " + (kv == 0 ? "K" : "V") + ", head " + head + ", word " + w;
                    return false;
                }
            }
            return true;
        });
        return found[0];
    }

    /** The pattern's 8-byte word. */
    static long value(long seed, KvLayout layout, int layer, int page, int kv, int head, int word) {
        long index = ((((long) layer * 1_000_003L + page) * 2 + kv) * layout.kvHeads() + head) * 1_000_033L + word;
        long z = seed + index * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private interface Block {
        boolean visit(int layer, int page, int kv, int head, int words, long offset);
    }

    private static void forEachWord(KvCache cache, int[] pages, Block block) {
        KvLayout l = cache.layout();
        int words = (int) (l.headBlockBytes() / 8);
        for (int layer = 0; layer < l.layers(); layer++) {
            for (int i = 0; i < pages.length; i++) {
                for (int kv = 0; kv < 2; kv++) {
                    for (int h = cache.heads().first(); h < cache.heads().end(); h++) {
                        if (!block.visit(layer, i, kv, h, words, cache.blockOffset(layer, pages[i], kv, h))) {
                            return;
                        }
                    }
                }
            }
        }
    }
}
