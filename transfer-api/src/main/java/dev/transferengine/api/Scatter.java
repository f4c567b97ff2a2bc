package dev.transferengine.api;

import java.util.List;
import java.util.OptionalInt;

/** One source region, many destinations (the MoE dispatch/combine shape). */
public record Scatter(MemoryRegion src, List<ScatterTarget> targets, OptionalInt imm, ScatterRouting routing)
        implements TransferRequest {
    public Scatter {
        TransferRequest.requireNonNull(src, "src");
        TransferRequest.requireNonNull(imm, "imm");
        TransferRequest.requireNonNull(routing, "routing");
        targets = TransferRequest.copyNoNulls(targets, "targets");
    }

    /** The record's form, with the imm unsigned ({@link Imm}). */
    @Override
    public String toString() {
        return "Scatter[src=" + src + ", targets=" + targets + ", imm=" + Imm.describe(imm) + ", routing=" + routing
                + "]";
    }
}
