package dev.transferengine.kits.kv;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;

import java.util.Objects;

/**
 * One tensor-parallel rank's paged KV cache in a registered region, HND order:
 * {@code [layer][page][K,V][head][token][dim]} over the rank's own heads ({@link KvLayout#headsOf}). Page
 * {@code p} of layer {@code l} starts at {@code (l * capacityPages + p) * pageBytes()}; its K half comes first,
 * its V half second, each {@link #halfPageBytes()} long, and inside a half one head's tokens are contiguous.
 *
 * <p>Immutable and thread-safe; does not own the region.
 */
public final class KvCache {
    private final KvLayout layout;
    private final int rank;
    private final int tpSize;
    private final KvLayout.HeadRange heads;
    private final MemoryRegion region;
    private final int capacityPages;

    /**
     * @param capacityPages pages per layer the region holds
     * @throws InvalidRequestException when the region is too small, or rank/tpSize do not split the heads
     */
    public KvCache(KvLayout layout, int rank, int tpSize, MemoryRegion region, int capacityPages) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.heads = layout.headsOf(rank, tpSize);
        this.rank = rank;
        this.tpSize = tpSize;
        this.region = Objects.requireNonNull(region, "region");
        if (capacityPages < 1) {
            throw new InvalidRequestException("capacityPages must be >= 1, got " + capacityPages);
        }
        this.capacityPages = capacityPages;
        long need = requiredBytes(layout, tpSize, capacityPages);
        if (region.lengthBytes() < need) {
            throw new InvalidRequestException("a KV cache of " + capacityPages + " pages x " + layout.layers()
                    + " layers at TP " + tpSize + " needs " + need + " bytes; the region has " + region.lengthBytes());
        }
    }

    /** Bytes a rank's cache of {@code capacityPages} pages per layer takes at tensor-parallel size {@code tpSize}. */
    public static long requiredBytes(KvLayout layout, int tpSize, int capacityPages) {
        layout.headsOf(0, tpSize);
        return Math.multiplyExact(Math.multiplyExact((long) layout.layers(), capacityPages),
                pageBytes(layout, tpSize));
    }

    private static long pageBytes(KvLayout layout, int tpSize) {
        return 2L * (layout.kvHeads() / tpSize) * layout.headBlockBytes();
    }

    public KvLayout layout() {
        return layout;
    }

    public int rank() {
        return rank;
    }

    public int tpSize() {
        return tpSize;
    }

    /** The global heads this rank holds. */
    public KvLayout.HeadRange heads() {
        return heads;
    }

    public MemoryRegion region() {
        return region;
    }

    public int capacityPages() {
        return capacityPages;
    }

    /** One page of one layer: K and V of this rank's heads. */
    public long pageBytes() {
        return pageBytes(layout, tpSize);
    }

    /** The K (or V) half of a page. */
    public long halfPageBytes() {
        return pageBytes() / 2;
    }

    /** Where layer {@code layer}'s pages start. */
    public long layerOffset(int layer) {
        return (long) layer * capacityPages * pageBytes();
    }

    /**
     * Byte offset of global head {@code head}'s block in page {@code page} of layer {@code layer}, K
     * ({@code kv = 0}) or V ({@code kv = 1}).
     */
    public long blockOffset(int layer, int page, int kv, int head) {
        if (layer < 0 || layer >= layout.layers() || page < 0 || page >= capacityPages || kv < 0 || kv > 1
                || head < heads.first() || head >= heads.end()) {
            throw new InvalidRequestException("no block (layer " + layer + ", page " + page + ", kv " + kv + ", head "
                    + head + ") in rank " + rank + "'s cache");
        }
        return layerOffset(layer) + (long) page * pageBytes() + kv * halfPageBytes()
                + (long) (head - heads.first()) * layout.headBlockBytes();
    }

    /** Checks that every index is a page of this cache. */
    void checkPages(int[] pages, String what) {
        for (int p : pages) {
            if (p < 0 || p >= capacityPages) {
                throw new InvalidRequestException(what + " page " + p + " outside 0.." + (capacityPages - 1));
            }
        }
    }
}
