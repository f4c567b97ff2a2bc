package dev.transferengine.api;

/** One destination of a {@link Scatter}: {@code length} bytes from {@code src + srcOffset} to {@code dst + dstOffset}. */
public record ScatterTarget(RemoteRegion dst, long length, long srcOffset, long dstOffset) {
    public ScatterTarget {
        TransferRequest.requireNonNull(dst, "dst");
        TransferRequest.requireNonNegative(length, "length");
        TransferRequest.requireNonNegative(srcOffset, "srcOffset");
        TransferRequest.requireNonNegative(dstOffset, "dstOffset");
    }
}
