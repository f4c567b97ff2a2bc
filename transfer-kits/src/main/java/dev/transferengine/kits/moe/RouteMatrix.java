package dev.transferengine.kits.moe;

/**
 * Every source's token count per expert for one round (what the route exchange gives every rank), and the
 * offsets that follow from it: where source {@code s}'s block for destination {@code d} sits in its send area,
 * and where its overflow range sits in {@code d}'s overflow area. Immutable after construction.
 */
final class RouteMatrix {
    private final MoeConfig config;
    private final int[][] counts;
    /** tokens[s][d]: tokens source s sends to rank d. */
    private final int[][] tokens;

    RouteMatrix(MoeConfig config, int[][] counts) {
        this.config = config;
        this.counts = counts;
        int r = config.ranks();
        int epr = config.expertsPerRank();
        tokens = new int[r][r];
        for (int s = 0; s < r; s++) {
            for (int e = 0; e < config.experts(); e++) {
                tokens[s][e / epr] += counts[s][e];
            }
        }
    }

    /** Tokens source {@code s} routes to expert {@code expert}. */
    int count(int s, int expert) {
        return counts[s][expert];
    }

    /** Tokens source {@code s} sends to rank {@code d}. */
    int tokens(int s, int d) {
        return tokens[s][d];
    }

    /** Tokens of source {@code s}'s send area before its block for rank {@code d}. */
    long sendOffset(int s, int d) {
        long at = 0;
        for (int x = 0; x < d; x++) {
            at += tokens[s][x];
        }
        return at;
    }

    /** Tokens written past the private slot by source {@code s} to rank {@code d}. */
    int overflowTokens(int s, int d) {
        return Math.max(0, tokens[s][d] - config.privateTokens());
    }

    /** Where source {@code s}'s overflow range starts in rank {@code d}'s overflow area, in tokens. */
    long overflowOffset(int s, int d) {
        long at = 0;
        for (int x = 0; x < s; x++) {
            at += overflowTokens(x, d);
        }
        return at;
    }

    /** Tokens rank {@code d} receives in total (all sources, itself included). */
    long received(int d) {
        long n = 0;
        for (int s = 0; s < config.ranks(); s++) {
            n += tokens[s][d];
        }
        return n;
    }
}
