package dev.transferengine.kits.moe;

import java.lang.foreign.MemorySegment;

/**
 * The tokens a rank received in one dispatch, by local expert: token {@code i} of local expert {@code le} is a
 * {@code tokenBytes} slice of the rank's receive buffer. The expert writes its output into the same slice
 * ({@link MoeRank#combine} returns the slices to their sources). Valid until the next dispatch. Tokens of one
 * expert are ordered by source rank, then by the source's token order.
 */
public final class ExpertBatch {
    private final MemorySegment buffer;
    private final int tokenBytes;
    private final int firstExpert;
    private final long[][] offsets;
    private final int[][] sources;

    ExpertBatch(MemorySegment buffer, int tokenBytes, int firstExpert, long[][] offsets, int[][] sources) {
        this.buffer = buffer;
        this.tokenBytes = tokenBytes;
        this.firstExpert = firstExpert;
        this.offsets = offsets;
        this.sources = sources;
    }

    /** Experts on this rank. */
    public int localExperts() {
        return offsets.length;
    }

    /** Global id of local expert {@code le}. */
    public int expertId(int le) {
        return firstExpert + le;
    }

    /** Tokens local expert {@code le} received. */
    public int tokenCount(int le) {
        return offsets[le].length;
    }

    /** Token {@code i} of local expert {@code le}: read the input, write the output in place. */
    public MemorySegment token(int le, int i) {
        return buffer.asSlice(offsets[le][i], tokenBytes);
    }

    /** The rank token {@code i} of local expert {@code le} came from. */
    public int source(int le, int i) {
        return sources[le][i];
    }

    /** Tokens received over all local experts. */
    public long totalTokens() {
        long n = 0;
        for (long[] o : offsets) {
            n += o.length;
        }
        return n;
    }
}
