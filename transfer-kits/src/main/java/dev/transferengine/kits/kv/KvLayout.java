package dev.transferengine.kits.kv;

import dev.transferengine.api.InvalidRequestException;

/**
 * The shape of a model's KV cache, the same on the prefill and the decode side: {@code layers} attention layers,
 * {@code kvHeads} key/value heads (GQA), {@code headDim} elements per head and token, {@code bytesPerElement}
 * (2 for bf16), {@code pageTokens} tokens per page.
 *
 * <p>Each rank stores its cache in HND order ({@link KvCache}): within a page, one head's tokens are contiguous
 * ({@link #headBlockBytes()} bytes), so any contiguous range of heads is one contiguous byte range and one write
 * per page moves it.
 */
public record KvLayout(int layers, int kvHeads, int headDim, int bytesPerElement, int pageTokens) {
    public KvLayout {
        positive(layers, "layers");
        positive(kvHeads, "kvHeads");
        positive(headDim, "headDim");
        positive(bytesPerElement, "bytesPerElement");
        positive(pageTokens, "pageTokens");
        if ((long) pageTokens * headDim * bytesPerElement > Integer.MAX_VALUE) {
            throw new InvalidRequestException("a head block of " + pageTokens + " tokens x " + headDim + " x "
                    + bytesPerElement + " bytes exceeds 2 GiB");
        }
    }

    /** Llama-3-70B's cache: 80 layers, 8 KV heads, head dim 128, bf16, 16-token pages. */
    public static KvLayout llama3_70b() {
        return new KvLayout(80, 8, 128, 2, 16);
    }

    /** The same shape with {@code n} layers (to scale a demo down). */
    public KvLayout withLayers(int n) {
        return new KvLayout(n, kvHeads, headDim, bytesPerElement, pageTokens);
    }

    /** Bytes of one head's K (or V) in one page: {@code pageTokens * headDim * bytesPerElement}. */
    public long headBlockBytes() {
        return (long) pageTokens * headDim * bytesPerElement;
    }

    /** Pages a prompt of {@code tokens} tokens fills (the last one possibly in part). */
    public int pagesFor(long tokens) {
        if (tokens < 1) {
            throw new InvalidRequestException("a prompt needs at least one token, got " + tokens);
        }
        long pages = (tokens + pageTokens - 1) / pageTokens;
        if (pages > Integer.MAX_VALUE) {
            throw new InvalidRequestException(tokens + " tokens is more pages than an int holds");
        }
        return (int) pages;
    }

    /** KV bytes of {@code pages} pages over all layers and all heads (K and V): what a hand-off moves. */
    public long bytesFor(int pages) {
        return 2L * layers * kvHeads * headBlockBytes() * pages;
    }

    /**
     * The heads tensor-parallel rank {@code rank} of {@code tpSize} holds: {@code kvHeads / tpSize} consecutive
     * heads starting at {@code rank * kvHeads / tpSize}.
     *
     * @throws InvalidRequestException unless {@code 0 <= rank < tpSize} and {@code tpSize} divides {@code kvHeads}
     */
    public HeadRange headsOf(int rank, int tpSize) {
        if (tpSize < 1 || kvHeads % tpSize != 0) {
            throw new InvalidRequestException("tensor-parallel size " + tpSize + " must divide the " + kvHeads
                    + " KV heads");
        }
        if (rank < 0 || rank >= tpSize) {
            throw new InvalidRequestException("rank " + rank + " outside 0.." + (tpSize - 1));
        }
        int per = kvHeads / tpSize;
        return new HeadRange(rank * per, per);
    }

    private static void positive(int value, String what) {
        if (value < 1) {
            throw new InvalidRequestException(what + " must be >= 1, got " + value);
        }
    }

    /** A range of global KV-head indices {@code [first, first + count)}. */
    public record HeadRange(int first, int count) {
        /** One past the last head. */
        public int end() {
            return first + count;
        }

        /** The heads both ranges hold; {@code count() == 0} when they share none. */
        public HeadRange intersect(HeadRange other) {
            int from = Math.max(first, other.first);
            int to = Math.min(end(), other.end());
            return new HeadRange(from, Math.max(0, to - from));
        }
    }
}
