package dev.transferengine.api;

import java.util.OptionalInt;

/**
 * One WRITE of {@code pageLength} bytes per page: page {@code i} goes from
 * {@code src + srcOffset + srcStride * srcPages[i]} to {@code dst + dstOffset + dstStride * dstPages[i]}.
 * Pages are split into contiguous chunks over the NICs of the group; every page's write carries the
 * imm, so the receiver sees one imm per page. The KV-cache transfer shape.
 */
public record PagedWrite(long pageLength, MemoryRegion src, int[] srcPages, long srcStride, long srcOffset,
                         RemoteRegion dst, int[] dstPages, long dstStride, long dstOffset, OptionalInt imm)
        implements TransferRequest {
    public PagedWrite {
        TransferRequest.requireNonNull(src, "src");
        TransferRequest.requireNonNull(dst, "dst");
        TransferRequest.requireNonNull(srcPages, "srcPages");
        TransferRequest.requireNonNull(dstPages, "dstPages");
        TransferRequest.requireNonNull(imm, "imm");
        TransferRequest.requireNonNegative(pageLength, "pageLength");
        TransferRequest.requireNonNegative(srcStride, "srcStride");
        TransferRequest.requireNonNegative(srcOffset, "srcOffset");
        TransferRequest.requireNonNegative(dstStride, "dstStride");
        TransferRequest.requireNonNegative(dstOffset, "dstOffset");
        if (srcPages.length != dstPages.length) {
            throw new InvalidRequestException("srcPages and dstPages differ in length: " + srcPages.length
                    + " vs " + dstPages.length);
        }
    }

    /** Number of pages (= number of WRITEs = number of imms when an imm is set). */
    public int pageCount() {
        return srcPages.length;
    }
}
