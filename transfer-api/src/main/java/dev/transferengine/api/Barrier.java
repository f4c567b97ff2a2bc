package dev.transferengine.api;

import java.util.List;
import java.util.OptionalInt;

/**
 * A zero-length WRITE carrying {@code imm} to each destination: one imm per destination. With
 * {@link Routing.Sharded} the destinations are spread over the NICs (the shard count is ignored: every
 * destination gets exactly one write); {@link Routing.Pinned} uses one NIC.
 */
public record Barrier(List<RemoteRegion> dsts, int immValue, Routing routing) implements TransferRequest {
    public Barrier {
        RequestChecks.requireNonNull(routing, "routing");
        dsts = RequestChecks.copyNoNulls(dsts, "dsts");
    }

    @Override
    public OptionalInt imm() {
        return OptionalInt.of(immValue);
    }

    /** The record's form, with the imm unsigned ({@link Imm}). */
    @Override
    public String toString() {
        return "Barrier[dsts=" + dsts + ", imm=" + Imm.toUnsignedString(immValue) + ", routing=" + routing + "]";
    }
}
