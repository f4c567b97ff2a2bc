package dev.transferengine.bench.cases;

import dev.transferengine.api.TransferRequest;

/**
 * One row of a sweep: a request shape, built once per window slot and submitted over and over.
 * Slot {@code s} reads from {@link BenchBuffers#srcOffset(int) its own source offset} and writes to its
 * own destination range {@code [s x bytesPerOp, (s+1) x bytesPerOp)}, so slots never overlap and every
 * slot's bytes can be checked. Implementations are immutable.
 */
public sealed interface WriteCase permits SingleWriteCase, PagedWriteCase {

    /** "single" or "paged". */
    String sweep();

    /** The row label: "4 KiB" or "4 KiB x 16". */
    String label();

    /** Payload bytes one request moves. */
    long bytesPerOp();

    /** Source bytes one request reads, counted from its slot's source offset. */
    long sourceSpan();

    /** The request of window slot {@code slot}, carrying {@code imm}. */
    TransferRequest request(BenchBuffers buffers, int slot, int imm);

    /**
     * Compares slot {@code slot}'s destination with the source it was written from.
     *
     * @return null when they match, else where they differ
     */
    String verify(BenchBuffers buffers, int slot);
}
