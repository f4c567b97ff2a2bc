package dev.transferengine.kits.moe;

import dev.transferengine.api.InvalidRequestException;

/**
 * The shape of one MoE layer's all-to-all, the same on every rank: {@code ranks} ranks (expert parallelism),
 * {@code experts} experts ({@code experts / ranks} on each rank, expert {@code e} on rank
 * {@code e / expertsPerRank}), at most {@code maxTokens} tokens per rank per round, each routed to {@code topK}
 * experts, {@code tokenBytes} bytes per token (hidden state, and the expert's output of the same size).
 *
 * @param privateTokens tokens per source that a destination keeps in a private slot: a source writes up to this
 *                      many before it knows where the rest goes (the reference's speculative private buffer)
 * @param senderNics    NICs of every rank's engine group (byte-sharded writes give one imm per NIC)
 * @param immBase       first of the four imm values the layer uses: route, dispatch, combine, barrier
 */
public record MoeConfig(int ranks, int experts, int maxTokens, int topK, int tokenBytes, int privateTokens,
                        int senderNics, int immBase) {
    /** Imm offsets from {@link #immBase}. */
    public static final int ROUTE = 0, DISPATCH = 1, COMBINE = 2, BARRIER = 3;

    public MoeConfig {
        if (ranks < 1 || experts < 1 || experts % ranks != 0) {
            throw new InvalidRequestException("need ranks >= 1 and experts a multiple of ranks, got " + experts
                    + " experts over " + ranks + " ranks");
        }
        if (maxTokens < 1 || topK < 1 || topK > experts || tokenBytes < 1 || privateTokens < 0 || senderNics < 1) {
            throw new InvalidRequestException("need maxTokens >= 1, 1 <= topK <= experts, tokenBytes >= 1, "
                    + "privateTokens >= 0, senderNics >= 1");
        }
        long worst = (long) ranks * (privateTokens + (long) maxTokens * Math.min(topK, experts / ranks)) * tokenBytes;
        if (worst > (1L << 40)) {
            throw new InvalidRequestException("receive buffers of " + worst + " bytes per rank are too large");
        }
    }

    /** Experts on each rank. */
    public int expertsPerRank() {
        return experts / ranks;
    }

    /** The rank that holds expert {@code expert}. */
    public int rankOf(int expert) {
        return expert / expertsPerRank();
    }

    /** The imm value of {@code phase} ({@link #ROUTE}, {@link #DISPATCH}, {@link #COMBINE}, {@link #BARRIER}). */
    public int imm(int phase) {
        return immBase + phase;
    }
}
