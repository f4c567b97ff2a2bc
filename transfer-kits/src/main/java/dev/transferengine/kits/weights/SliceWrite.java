package dev.transferengine.kits.weights;

/**
 * One write of the schedule: {@code rows} rows of {@code rowBytes} each, from the source rank's prepared shard
 * (byte {@code srcOffset} of the shard, rows {@code srcStrideBytes} apart) to the destination rank's weight
 * buffer (byte {@code dstOffset}, rows {@code dstStrideBytes} apart). A slice whose rows are contiguous on both
 * sides ({@link #isContiguous()}) is one {@code SingleWrite}; any other is a {@code PagedWrite} with one page
 * per row.
 *
 * @param parameter      index of the parameter in the schedule
 * @param sourceRank     training rank that writes it
 * @param destRank       inference rank it lands on
 * @param srcOffset      byte offset inside the source rank's prepared shard of the parameter
 * @param dstOffset      byte offset inside the destination rank's weight buffer
 */
public record SliceWrite(int parameter, int sourceRank, int destRank, long srcOffset, long dstOffset, long rowBytes,
                         int rows, long srcStrideBytes, long dstStrideBytes) {

    /** Whether the slice is one contiguous byte range on both sides. */
    public boolean isContiguous() {
        return rows == 1 || (rowBytes == srcStrideBytes && rowBytes == dstStrideBytes);
    }

    /** Bytes the slice moves. */
    public long bytes() {
        return rowBytes * rows;
    }

    /** NIC work requests the slice becomes: 1 for a contiguous slice (before NIC sharding), one per row otherwise. */
    public int workRequests() {
        return isContiguous() ? 1 : rows;
    }
}
