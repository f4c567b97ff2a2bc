package dev.transferengine.api;

import java.util.OptionalInt;

/** A zero-length WRITE carrying {@code immValue} to {@code dst}: exactly one imm. */
public record ImmWrite(RemoteRegion dst, int immValue, Routing routing) implements TransferRequest {
    public ImmWrite {
        RequestChecks.requireNonNull(dst, "dst");
        RequestChecks.requireNonNull(routing, "routing");
    }

    /** An imm write on NIC 0. */
    public static ImmWrite of(RemoteRegion dst, int imm) {
        return new ImmWrite(dst, imm, Routing.pinned(0));
    }

    @Override
    public OptionalInt imm() {
        return OptionalInt.of(immValue);
    }

    /** The record's form, with the imm unsigned ({@link Imm}). */
    @Override
    public String toString() {
        return "ImmWrite[dst=" + dst + ", imm=" + Imm.toUnsignedString(immValue) + ", routing=" + routing + "]";
    }
}
