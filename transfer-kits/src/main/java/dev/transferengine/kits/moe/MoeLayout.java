package dev.transferengine.kits.moe;

/**
 * Where each area lives in a rank's one registered buffer (every rank has the same layout, so a source can address
 * a peer's areas from its descriptor alone). In tokens of {@code tokenBytes} unless said otherwise:
 * <pre>
 *   route        ranks x experts int32   slot s: source s's tokens per expert
 *   routeSend    experts int32           this rank's counts, the source of the route scatter
 *   private      ranks x privateTokens   slot s: the first tokens source s sends here
 *   overflow     ranks x maxTokens x min(topK, expertsPerRank)   the rest, one contiguous range per source
 *   send         maxTokens x topK        this rank's tokens packed by destination rank, then local expert
 *   combine      maxTokens x topK        the experts' outputs for this rank's tokens, in send order
 *   combineSend  ranks x maxTokens x min(topK, expertsPerRank)   outputs packed by source, returned in one write each
 * </pre>
 */
final class MoeLayout {
    final long route;
    final long routeSend;
    final long privateArea;
    final long overflow;
    final long send;
    final long combine;
    final long combineSend;
    final long totalBytes;

    MoeLayout(MoeConfig c) {
        long h = c.tokenBytes();
        long perSourceWorst = (long) c.maxTokens() * Math.min(c.topK(), c.expertsPerRank());
        route = 0;
        routeSend = route + (long) c.ranks() * c.experts() * 4;
        privateArea = align(routeSend + (long) c.experts() * 4);
        overflow = align(privateArea + (long) c.ranks() * c.privateTokens() * h);
        send = align(overflow + c.ranks() * perSourceWorst * h);
        combine = align(send + (long) c.maxTokens() * c.topK() * h);
        combineSend = align(combine + (long) c.maxTokens() * c.topK() * h);
        totalBytes = align(combineSend + c.ranks() * perSourceWorst * h);
    }

    static long align(long v) {
        return (v + 63) & ~63L;
    }
}
