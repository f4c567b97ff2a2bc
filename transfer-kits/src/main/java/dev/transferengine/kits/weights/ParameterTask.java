package dev.transferengine.kits.weights;

import java.util.List;

/**
 * What one source rank does for one parameter in a step: prepare its shard ({@code shardBytes}, row-major,
 * {@code shardRows x shardColumns} elements) into staging memory, then post {@code writes}.
 *
 * @param parameter  index of the parameter in the schedule
 * @param sourceRank the training rank
 * @param shardBytes bytes the preparation stage produces (and the watermark accounts for)
 * @param shardRow0  first row of the shard in the parameter's matrix view
 * @param shardCol0  first column
 */
public record ParameterTask(int parameter, ParameterMeta meta, int sourceRank, long shardBytes, long shardRow0,
                            long shardRows, long shardCol0, long shardColumns, List<SliceWrite> writes) {
    public ParameterTask {
        writes = List.copyOf(writes);
    }
}
