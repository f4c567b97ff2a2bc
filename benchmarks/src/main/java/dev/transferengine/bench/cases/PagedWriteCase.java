package dev.transferengine.bench.cases;

import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.bench.cli.ByteSize;

import java.util.OptionalInt;
import java.util.Random;

/**
 * A paged write (the KV-cache shape): {@code pageCount} pages of {@code pageLength} bytes, taken from a
 * shuffled set of source pages and written to a differently shuffled set of destination pages, one
 * WRITE and one imm per page.
 */
public record PagedWriteCase(long pageLength, int pageCount, int[] srcPages, int[] dstPages) implements WriteCase {

    /** Pages permuted with {@code seed}: page {@code i} goes from source page {@code srcPages[i]} to {@code dstPages[i]}. */
    public PagedWriteCase(long pageLength, int pageCount, long seed) {
        this(pageLength, pageCount, permutation(pageCount, new Random(seed)), permutation(pageCount, new Random(~seed)));
    }

    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public String sweep() {
        return "paged";
    }

    @Override
    public String label() {
        return ByteSize.format(pageLength) + " x " + pageCount;
    }

    @Override
    public long bytesPerOp() {
        return pageLength * pageCount;
    }

    @Override
    public long sourceSpan() {
        return pageLength * pageCount;
    }

    @Override
    public TransferRequest request(BenchBuffers buffers, int slot, int imm) {
        return new PagedWrite(pageLength, buffers.source(), srcPages, pageLength, buffers.srcOffset(slot),
                buffers.destination(), dstPages, pageLength, buffers.dstOffset(slot, bytesPerOp()), OptionalInt.of(imm));
    }

    @Override
    public String verify(BenchBuffers buffers, int slot) {
        long srcBase = buffers.srcOffset(slot);
        long dstBase = buffers.dstOffset(slot, bytesPerOp());
        for (int i = 0; i < pageCount; i++) {
            String diff = buffers.compare(srcBase + srcPages[i] * pageLength, dstBase + dstPages[i] * pageLength,
                    pageLength);
            if (diff != null) {
                return "page " + i + " (source page " + srcPages[i] + " -> destination page " + dstPages[i] + "): " + diff;
            }
        }
        return null;
    }
}
