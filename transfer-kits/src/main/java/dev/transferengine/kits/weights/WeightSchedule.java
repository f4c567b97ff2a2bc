package dev.transferengine.kits.weights;

import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.Routing;

import java.util.List;

/**
 * The static schedule {@link WeightPlanner} computes once: for every training (source) rank the parameters it
 * prepares, in order, and the slices it writes to which inference (destination) rank at which offset; and the
 * layout of every rank's buffer (its shards in parameter order, each aligned to {@link #ALIGNMENT} bytes).
 *
 * <p>Immutable and thread-safe: every rank may compute it from the same metadata, or one controller computes it
 * and hands it out; the schedule is a pure function of the metadata and rank counts.
 */
public final class WeightSchedule {
    /** Alignment of every shard in a rank's buffer. */
    public static final long ALIGNMENT = 256;

    private final List<ParameterMeta> parameters;
    private final int sourceRanks;
    private final int destinationRanks;
    private final List<List<ParameterTask>> tasksBySource;
    private final long[][] sourceOffsets;
    private final long[] sourceBytes;
    private final long[][] destinationOffsets;
    private final long[] destinationBytes;

    WeightSchedule(List<ParameterMeta> parameters, int sourceRanks, int destinationRanks,
                   List<List<ParameterTask>> tasksBySource, long[][] sourceOffsets, long[] sourceBytes,
                   long[][] destinationOffsets, long[] destinationBytes) {
        this.parameters = List.copyOf(parameters);
        this.sourceRanks = sourceRanks;
        this.destinationRanks = destinationRanks;
        this.tasksBySource = tasksBySource.stream().map(List::copyOf).toList();
        this.sourceOffsets = sourceOffsets;
        this.sourceBytes = sourceBytes;
        this.destinationOffsets = destinationOffsets;
        this.destinationBytes = destinationBytes;
    }

    public List<ParameterMeta> parameters() {
        return parameters;
    }

    public int sourceRanks() {
        return sourceRanks;
    }

    public int destinationRanks() {
        return destinationRanks;
    }

    /** The parameters source rank {@code rank} prepares and writes, in order (those it writes nothing of left out). */
    public List<ParameterTask> tasks(int rank) {
        return tasksBySource.get(checkRank(rank, sourceRanks, "source"));
    }

    /** Bytes of source rank {@code rank}'s own shards of every parameter (its training buffer in the schedule's layout). */
    public long sourceBufferBytes(int rank) {
        return sourceBytes[checkRank(rank, sourceRanks, "source")];
    }

    /** Where parameter {@code parameter}'s shard starts in source rank {@code rank}'s buffer; -1 if it holds none. */
    public long sourceOffset(int rank, int parameter) {
        return sourceOffsets[checkRank(rank, sourceRanks, "source")][parameter];
    }

    /** Bytes destination rank {@code rank}'s weight buffer needs. */
    public long destinationBufferBytes(int rank) {
        return destinationBytes[checkRank(rank, destinationRanks, "destination")];
    }

    /** Where parameter {@code parameter}'s shard starts in destination rank {@code rank}'s buffer; -1 if it holds none. */
    public long destinationOffset(int rank, int parameter) {
        return destinationOffsets[checkRank(rank, destinationRanks, "destination")][parameter];
    }

    /** Every slice written to destination rank {@code rank}, from any source. */
    public List<SliceWrite> writesTo(int rank) {
        checkRank(rank, destinationRanks, "destination");
        return tasksBySource.stream().flatMap(List::stream).flatMap(t -> t.writes().stream())
                .filter(w -> w.destRank() == rank).toList();
    }

    /**
     * Imms destination rank {@code rank} receives per step when every source's engine has {@code senderNics}
     * NICs: a contiguous slice is one {@code SingleWrite} sharded over all NICs ({@code senderNics} imms), any
     * other slice a {@code PagedWrite} (one imm per row); see {@link ImmAccounting}.
     */
    public long immsPerStep(int rank, int senderNics) {
        long n = 0;
        for (SliceWrite w : writesTo(rank)) {
            n += w.isContiguous() ? ImmAccounting.writesOf(Routing.allNics(), senderNics) : w.rows();
        }
        return n;
    }

    /** Submit calls (requests) source rank {@code rank} makes per step. */
    public int requestsPerStep(int rank) {
        return tasks(rank).stream().mapToInt(t -> t.writes().size()).sum();
    }

    /** Bytes source rank {@code rank} writes per step. */
    public long bytesPerStep(int rank) {
        return tasks(rank).stream().flatMap(t -> t.writes().stream()).mapToLong(SliceWrite::bytes).sum();
    }

    /** The largest prepared shard of any task: a pusher's watermark must be at least this (aligned). */
    public long largestTaskBytes() {
        return tasksBySource.stream().flatMap(List::stream).mapToLong(ParameterTask::shardBytes).max().orElse(0);
    }

    private static int checkRank(int rank, int ranks, String side) {
        if (rank < 0 || rank >= ranks) {
            throw new InvalidRequestException(side + " rank " + rank + " out of range 0.." + (ranks - 1));
        }
        return rank;
    }
}
