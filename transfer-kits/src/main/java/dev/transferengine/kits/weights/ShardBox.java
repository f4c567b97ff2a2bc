package dev.transferengine.kits.weights;

/**
 * The rectangle of a parameter's matrix view that one rank holds: rows {@code [row0, row1)}, columns
 * {@code [col0, col1)}, stored row-major. Package-private geometry for the planner.
 */
record ShardBox(long row0, long row1, long col0, long col1) {

    /** The box of rank {@code rank} of {@code ranks} for {@code placement} of {@code p}. */
    static ShardBox of(ParameterMeta p, Placement placement, int rank, int ranks) {
        return switch (placement) {
            case Placement.Replicated r -> new ShardBox(0, p.rows(), 0, p.columns());
            case Placement.Shard s when s.dim() == 0 -> {
                long[] range = chunk(p.rows(), rank, ranks);
                yield new ShardBox(range[0], range[1], 0, p.columns());
            }
            case Placement.Shard s -> {
                long[] range = chunk(p.columns(), rank, ranks);
                yield new ShardBox(0, p.rows(), range[0], range[1]);
            }
        };
    }

    /** {@code torch.chunk}'s range for {@code rank}: chunks of {@code ceil(size / ranks)}, the last shorter or empty. */
    private static long[] chunk(long size, int rank, int ranks) {
        long per = (size + ranks - 1) / ranks;
        long start = Math.min(size, per * rank);
        return new long[] {start, Math.min(size, start + per)};
    }

    long rows() {
        return row1 - row0;
    }

    long columns() {
        return col1 - col0;
    }

    boolean isEmpty() {
        return rows() <= 0 || columns() <= 0;
    }

    long elements() {
        return isEmpty() ? 0 : rows() * columns();
    }

    ShardBox intersect(ShardBox o) {
        return new ShardBox(Math.max(row0, o.row0), Math.min(row1, o.row1), Math.max(col0, o.col0),
                Math.min(col1, o.col1));
    }

    /** Element offset of global {@code (row, col)} inside this box's row-major storage. */
    long localElement(long row, long col) {
        return (row - row0) * columns() + (col - col0);
    }
}
