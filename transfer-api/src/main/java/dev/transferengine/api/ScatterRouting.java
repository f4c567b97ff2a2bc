package dev.transferengine.api;

/** How a {@link Scatter} spreads its destinations over the NICs of the source group. */
public sealed interface ScatterRouting {

    /** Each NIC writes a subset of the destinations whole: one imm per destination. */
    record ShardPeers() implements ScatterRouting {
    }

    /**
     * Every NIC writes a slice of every destination; the remainder bytes go to the first slices.
     * With N NICs: N imms per destination (empty slices included, as zero-length writes).
     */
    record ShardBytes() implements ScatterRouting {
    }

    /** One NIC writes everything: one imm per destination. */
    record Pinned(int nic) implements ScatterRouting {
        public Pinned {
            if (nic < 0) {
                throw new InvalidRequestException("NIC index must be >= 0, got " + nic);
            }
        }
    }

    ScatterRouting SHARD_PEERS = new ShardPeers();
    ScatterRouting SHARD_BYTES = new ShardBytes();

    static ScatterRouting pinned(int nic) {
        return new Pinned(nic);
    }
}
