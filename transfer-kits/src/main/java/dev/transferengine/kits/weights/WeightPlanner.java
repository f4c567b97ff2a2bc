package dev.transferengine.kits.weights;

import dev.transferengine.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Computes the {@link WeightSchedule} once from parameter metadata and the two shardings: for every parameter
 * and every destination rank's shard, which source ranks hold which part of it. A row-sharded or column-sharded
 * source writes the intersection of its shard with each destination shard; a replicated source is written by one
 * rank per destination shard, chosen round-robin ({@code (parameter + destRank) mod sourceRanks}) so replicated
 * parameters spread over the training ranks instead of all coming from rank 0. Every destination byte is written
 * by exactly one slice. Stateless.
 */
public final class WeightPlanner {
    private WeightPlanner() {
    }

    /**
     * @throws InvalidRequestException for no parameters, duplicate names, rank counts below 1, or a slice with more
     *                                 rows than a paged write can carry
     */
    public static WeightSchedule plan(List<ParameterMeta> parameters, int sourceRanks, int destinationRanks) {
        if (parameters == null || parameters.isEmpty()) {
            throw new InvalidRequestException("a weight schedule needs at least one parameter");
        }
        if (sourceRanks < 1 || destinationRanks < 1) {
            throw new InvalidRequestException("need at least one source and one destination rank, got "
                    + sourceRanks + " and " + destinationRanks);
        }
        Set<String> names = new HashSet<>();
        for (ParameterMeta p : parameters) {
            if (p == null || !names.add(p.name())) {
                throw new InvalidRequestException("parameters must be non-null with unique names: " + p);
            }
        }
        int count = parameters.size();
        long[][] srcOffsets = new long[sourceRanks][count];
        long[] srcBytes = new long[sourceRanks];
        long[][] dstOffsets = new long[destinationRanks][count];
        long[] dstBytes = new long[destinationRanks];
        layout(parameters, sourceRanks, true, srcOffsets, srcBytes);
        layout(parameters, destinationRanks, false, dstOffsets, dstBytes);

        List<List<ParameterTask>> tasks = new ArrayList<>();
        for (int s = 0; s < sourceRanks; s++) {
            tasks.add(new ArrayList<>());
        }
        for (int pi = 0; pi < count; pi++) {
            ParameterMeta p = parameters.get(pi);
            List<List<SliceWrite>> writesBySource = new ArrayList<>();
            for (int s = 0; s < sourceRanks; s++) {
                writesBySource.add(new ArrayList<>());
            }
            for (int d = 0; d < destinationRanks; d++) {
                ShardBox dst = ShardBox.of(p, p.destination(), d, destinationRanks);
                if (dst.isEmpty()) {
                    continue;
                }
                for (int s = 0; s < sourceRanks; s++) {
                    if (p.source() instanceof Placement.Replicated && s != (pi + d) % sourceRanks) {
                        continue;
                    }
                    ShardBox src = ShardBox.of(p, p.source(), s, sourceRanks);
                    ShardBox part = src.intersect(dst);
                    if (part.isEmpty()) {
                        continue;
                    }
                    writesBySource.get(s).add(slice(p, pi, s, d, src, dst, part, dstOffsets[d][pi]));
                }
            }
            for (int s = 0; s < sourceRanks; s++) {
                if (!writesBySource.get(s).isEmpty()) {
                    ShardBox src = ShardBox.of(p, p.source(), s, sourceRanks);
                    tasks.get(s).add(new ParameterTask(pi, p, s, src.elements() * p.dtype().bytes(), src.row0(),
                            src.rows(), src.col0(), src.columns(), writesBySource.get(s)));
                }
            }
        }
        return new WeightSchedule(parameters, sourceRanks, destinationRanks, tasks, srcOffsets, srcBytes, dstOffsets,
                dstBytes);
    }

    private static SliceWrite slice(ParameterMeta p, int pi, int s, int d, ShardBox src, ShardBox dst, ShardBox part,
                                    long dstBase) {
        long e = p.dtype().bytes();
        if (part.rows() > Integer.MAX_VALUE) {
            throw new InvalidRequestException(p.name() + ": a slice of " + part.rows() + " rows is too many pages");
        }
        long srcOffset = src.localElement(part.row0(), part.col0()) * e;
        long dstOffset = dstBase + dst.localElement(part.row0(), part.col0()) * e;
        long rowBytes = part.columns() * e;
        long srcStride = src.columns() * e;
        long dstStride = dst.columns() * e;
        SliceWrite w = new SliceWrite(pi, s, d, srcOffset, dstOffset, rowBytes, (int) part.rows(), srcStride, dstStride);
        if (w.isContiguous() && w.rows() > 1) {
            // one range on both sides: a single write of every row at once
            return new SliceWrite(pi, s, d, srcOffset, dstOffset, w.bytes(), 1, w.bytes(), w.bytes());
        }
        return w;
    }

    /** Shards of every parameter in order, each aligned; -1 for a parameter the rank holds nothing of. */
    private static void layout(List<ParameterMeta> parameters, int ranks, boolean source, long[][] offsets,
                               long[] totals) {
        for (int r = 0; r < ranks; r++) {
            long at = 0;
            for (int pi = 0; pi < parameters.size(); pi++) {
                ParameterMeta p = parameters.get(pi);
                ShardBox box = ShardBox.of(p, source ? p.source() : p.destination(), r, ranks);
                if (box.isEmpty()) {
                    offsets[r][pi] = -1;
                    continue;
                }
                offsets[r][pi] = at;
                at = align(at + box.elements() * p.dtype().bytes());
            }
            totals[r] = at;
        }
    }

    static long align(long bytes) {
        return (bytes + WeightSchedule.ALIGNMENT - 1) / WeightSchedule.ALIGNMENT * WeightSchedule.ALIGNMENT;
    }
}
