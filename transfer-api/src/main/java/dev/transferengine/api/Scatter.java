package dev.transferengine.api;

import java.util.List;
import java.util.OptionalInt;

/** One source region, many destinations (the MoE dispatch/combine shape). */
public record Scatter(MemoryRegion src, List<ScatterTarget> targets, OptionalInt imm, ScatterRouting routing)
        implements TransferRequest {
    public Scatter {
        RequestChecks.requireNonNull(src, "src");
        RequestChecks.requireNonNull(imm, "imm");
        RequestChecks.requireNonNull(routing, "routing");
        targets = RequestChecks.copyNoNulls(targets, "targets");
    }

    /** The record's form, with the imm unsigned ({@link Imm}). */
    @Override
    public String toString() {
        return "Scatter[src=" + src + ", targets=" + targets + ", imm=" + Imm.describe(imm) + ", routing=" + routing
                + "]";
    }
}
