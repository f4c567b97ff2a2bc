package dev.transferengine.kits.weights;

import dev.transferengine.api.InvalidRequestException;

/**
 * How one parameter is laid out over the ranks of one side (training or inference), as in a DTensor
 * placement: every rank holds the whole tensor, or rank {@code r} of {@code n} holds chunk {@code r} along one
 * dimension. Chunks follow {@code torch.chunk}: {@code ceil(size / n)} elements each, so the last ranks may hold
 * fewer, or none.
 */
public sealed interface Placement {

    /** Every rank holds the whole tensor. */
    record Replicated() implements Placement {
    }

    /** Rank {@code r} holds chunk {@code r} along {@code dim} (0: rows, 1: columns of a 2-D parameter). */
    record Shard(int dim) implements Placement {
        public Shard {
            if (dim < 0 || dim > 1) {
                throw new InvalidRequestException("shard dimension must be 0 or 1, got " + dim);
            }
        }
    }

    /** The shared {@link Replicated} instance. */
    Placement REPLICATED = new Replicated();

    /** Sharded along rows. */
    static Placement rows() {
        return new Shard(0);
    }

    /** Sharded along columns (2-D parameters only). */
    static Placement columns() {
        return new Shard(1);
    }
}
