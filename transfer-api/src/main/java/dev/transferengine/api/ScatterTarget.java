package dev.transferengine.api;

/** One destination of a {@link Scatter}: {@code length} bytes from {@code src + srcOffset} to {@code dst + dstOffset}. */
public record ScatterTarget(RemoteRegion dst, long length, long srcOffset, long dstOffset) {
    public ScatterTarget {
        RequestChecks.requireNonNull(dst, "dst");
        RequestChecks.requireNonNegative(length, "length");
        RequestChecks.requireNonNegative(srcOffset, "srcOffset");
        RequestChecks.requireNonNegative(dstOffset, "dstOffset");
    }
}
