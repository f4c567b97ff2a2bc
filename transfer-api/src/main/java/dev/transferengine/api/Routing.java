package dev.transferengine.api;

/**
 * How a single write, imm write or barrier uses the NICs of the source group.
 * NIC index {@code i} always selects the local NIC, its local key, and entry {@code i mod remoteNics}
 * of the destination descriptor together.
 */
public sealed interface Routing {

    /**
     * Split the bytes into {@code shards} contiguous pieces written over {@code shards} NICs in
     * round-robin order. {@code shards == 0} means "all NICs of the group". Each shard carries the imm,
     * so a sharded write with an imm produces {@code shards} imms (empty shards included).
     */
    record Sharded(int shards) implements Routing {
        public Sharded {
            if (shards < 0) {
                throw new InvalidRequestException("shards must be >= 0 (0 = all NICs), got " + shards);
            }
        }
    }

    /** Use one NIC for everything. */
    record Pinned(int nic) implements Routing {
        public Pinned {
            if (nic < 0) {
                throw new InvalidRequestException("NIC index must be >= 0, got " + nic);
            }
        }
    }

    /** Sharded over every NIC of the group. */
    static Routing allNics() {
        return ALL_NICS;
    }

    /** Sharded over {@code n} NICs. */
    static Routing sharded(int n) {
        return new Sharded(n);
    }

    /** Pinned to NIC {@code nic}. */
    static Routing pinned(int nic) {
        return new Pinned(nic);
    }

    /** The shared {@code Sharded(0)} instance. */
    Routing ALL_NICS = new Sharded(0);
}
