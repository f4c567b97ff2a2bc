package dev.transferengine.api;

import java.util.OptionalInt;

/**
 * Write {@code length} bytes from {@code src + srcOffset} to {@code dst + dstOffset}.
 * With {@link Routing.Sharded} the bytes are split over several NICs (each shard carries the imm).
 */
public record SingleWrite(MemoryRegion src, long srcOffset, long length, RemoteRegion dst, long dstOffset,
                          OptionalInt imm, Routing routing) implements TransferRequest {
    public SingleWrite {
        RequestChecks.requireNonNull(src, "src");
        RequestChecks.requireNonNull(dst, "dst");
        RequestChecks.requireNonNull(imm, "imm");
        RequestChecks.requireNonNull(routing, "routing");
        RequestChecks.requireNonNegative(srcOffset, "srcOffset");
        RequestChecks.requireNonNegative(length, "length");
        RequestChecks.requireNonNegative(dstOffset, "dstOffset");
    }

    /** A write over all NICs without imm. */
    public static SingleWrite of(MemoryRegion src, long srcOffset, long length, RemoteRegion dst, long dstOffset) {
        return new SingleWrite(src, srcOffset, length, dst, dstOffset, OptionalInt.empty(), Routing.allNics());
    }

    /** A write over all NICs carrying {@code imm}. */
    public static SingleWrite withImm(MemoryRegion src, long srcOffset, long length, RemoteRegion dst,
                                      long dstOffset, int imm) {
        return new SingleWrite(src, srcOffset, length, dst, dstOffset, OptionalInt.of(imm), Routing.allNics());
    }

    /** The same write with another routing. */
    public SingleWrite routed(Routing newRouting) {
        return new SingleWrite(src, srcOffset, length, dst, dstOffset, imm, newRouting);
    }

    /** The record's form, with the imm unsigned ({@link Imm}). */
    @Override
    public String toString() {
        return "SingleWrite[src=" + src + ", srcOffset=" + srcOffset + ", length=" + length + ", dst=" + dst
                + ", dstOffset=" + dstOffset + ", imm=" + Imm.describe(imm) + ", routing=" + routing + "]";
    }
}
