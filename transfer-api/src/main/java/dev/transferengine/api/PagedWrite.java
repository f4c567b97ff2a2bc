package dev.transferengine.api;

import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One WRITE of {@code pageLength} bytes per page: page {@code i} goes from
 * {@code src + srcOffset + srcStride * srcPages[i]} to {@code dst + dstOffset + dstStride * dstPages[i]}.
 * Pages are split into contiguous chunks over the NICs of the group; every page's write carries the
 * imm, so the receiver sees one imm per page. The KV-cache transfer shape.
 *
 * <p><b>Building one.</b> Rather than the ten-component constructor, use {@link #of} (page indices on both
 * sides, stride = page length, no offsets) or {@link #strided} (page {@code i} at a fixed stride on each side,
 * no index arrays), then {@link #withImm(int)}; the constructor remains for the general form (separate
 * strides and offsets with index arrays).
 *
 * <p><b>A value.</b> The constructor copies both page arrays, and {@link #srcPages()} / {@link #dstPages()}
 * return copies, so a request cannot change after it was built (or validated): changing the array passed in
 * changes nothing. {@link #equals}, {@link #hashCode} and {@link #toString} use the arrays' contents. To read
 * one page without a copy (the engine's hot path does), use {@link #srcPage(int)}, {@link #dstPage(int)},
 * {@link #srcOffsetOf(int)} and {@link #dstOffsetOf(int)}. Page indices are checked against the regions when
 * the request is submitted, not here.
 *
 * @param pageLength bytes per page (every page the same)
 * @param src        the registered source region
 * @param srcPages   the source page index of each page (a copy is kept)
 * @param srcStride  bytes between source pages
 * @param srcOffset  where source page index 0 starts in {@code src}
 * @param dst        the destination descriptor
 * @param dstPages   the destination page index of each page, as many as {@code srcPages} (a copy is kept)
 * @param dstStride  bytes between destination pages
 * @param dstOffset  where destination page index 0 starts in {@code dst}
 * @param imm        the imm every page's write carries, or empty
 */
public record PagedWrite(long pageLength, MemoryRegion src, int[] srcPages, long srcStride, long srcOffset,
                         RemoteRegion dst, int[] dstPages, long dstStride, long dstOffset, OptionalInt imm)
        implements TransferRequest {
    /** {@link #toString()} prints at most this many indices of each page array. */
    static final int PAGES_SHOWN = 16;

    /**
     * The general form; copies {@code srcPages} and {@code dstPages}.
     *
     * @throws InvalidRequestException when a reference is null, a length, stride or offset is negative, or the
     *                                 page arrays differ in length
     */
    public PagedWrite {
        RequestChecks.requireNonNull(src, "src");
        RequestChecks.requireNonNull(dst, "dst");
        RequestChecks.requireNonNull(srcPages, "srcPages");
        RequestChecks.requireNonNull(dstPages, "dstPages");
        RequestChecks.requireNonNull(imm, "imm");
        RequestChecks.requireNonNegative(pageLength, "pageLength");
        RequestChecks.requireNonNegative(srcStride, "srcStride");
        RequestChecks.requireNonNegative(srcOffset, "srcOffset");
        RequestChecks.requireNonNegative(dstStride, "dstStride");
        RequestChecks.requireNonNegative(dstOffset, "dstOffset");
        if (srcPages.length != dstPages.length) {
            throw new InvalidRequestException("srcPages and dstPages differ in length: " + srcPages.length
                    + " vs " + dstPages.length);
        }
        int[] sourceCopy = srcPages.clone();
        // One array passed for both sides stays one copy: the request never hands its arrays out.
        dstPages = dstPages == srcPages ? sourceCopy : dstPages.clone();
        srcPages = sourceCopy;
    }

    /**
     * Page {@code srcPages[i]} of {@code src} to page {@code dstPages[i]} of {@code dst}, pages of
     * {@code pageLength} bytes laid out back to back (both strides = {@code pageLength}, both offsets 0), no imm.
     * Copies the arrays.
     *
     * @throws InvalidRequestException as the constructor does
     */
    public static PagedWrite of(long pageLength, MemoryRegion src, int[] srcPages, RemoteRegion dst,
                                int[] dstPages) {
        return new PagedWrite(pageLength, src, srcPages, pageLength, 0, dst, dstPages, pageLength, 0,
                OptionalInt.empty());
    }

    /**
     * {@code count} pages at a plain stride on each side, no index arrays: page {@code i} (0 ≤ i &lt; count) goes
     * from {@code src + srcOffset + i * srcStride} to {@code dst + dstOffset + i * dstStride}; no imm. The rows of
     * a matrix slice, say (offset = first row, stride = row pitch). The same request as the constructor with page
     * indices {@code 0..count-1} on both sides; offsets are in bytes, so a first page {@code k} is an offset of
     * {@code k * stride} and a start that is no multiple of the stride works too.
     *
     * @throws InvalidRequestException when {@code count} is negative, or as the constructor does
     */
    public static PagedWrite strided(long pageLength, MemoryRegion src, long srcOffset, long srcStride,
                                     RemoteRegion dst, long dstOffset, long dstStride, int count) {
        if (count < 0) {
            throw new InvalidRequestException("count must be >= 0, got " + count);
        }
        int[] pages = new int[count];
        for (int i = 0; i < count; i++) {
            pages[i] = i;
        }
        return new PagedWrite(pageLength, src, pages, srcStride, srcOffset, dst, pages, dstStride, dstOffset,
                OptionalInt.empty());
    }

    /** The same write with every page carrying {@code immValue} (so {@link #pageCount()} imms). */
    public PagedWrite withImm(int immValue) {
        return new PagedWrite(pageLength, src, srcPages, srcStride, srcOffset, dst, dstPages, dstStride, dstOffset,
                OptionalInt.of(immValue));
    }

    /** Number of pages (= number of WRITEs = number of imms when an imm is set). */
    public int pageCount() {
        return srcPages.length;
    }

    /** A copy of the source page indices (use {@link #srcPage(int)} to read one without copying). */
    @Override
    public int[] srcPages() {
        return srcPages.clone();
    }

    /** A copy of the destination page indices (use {@link #dstPage(int)} to read one without copying). */
    @Override
    public int[] dstPages() {
        return dstPages.clone();
    }

    /**
     * The source page index of page {@code i}.
     *
     * @throws InvalidRequestException when {@code i} is not in {@code [0, pageCount())}
     */
    public int srcPage(int i) {
        return srcPages[checkPage(i)];
    }

    /**
     * The destination page index of page {@code i}.
     *
     * @throws InvalidRequestException when {@code i} is not in {@code [0, pageCount())}
     */
    public int dstPage(int i) {
        return dstPages[checkPage(i)];
    }

    /**
     * Where page {@code i} starts in {@code src}: {@code srcOffset + srcStride * srcPages[i]} (not checked against
     * the region or for overflow; the engine checks both when the request is submitted).
     *
     * @throws InvalidRequestException when {@code i} is not in {@code [0, pageCount())}
     */
    public long srcOffsetOf(int i) {
        return srcOffset + srcStride * srcPage(i);
    }

    /**
     * Where page {@code i} lands in {@code dst}: {@code dstOffset + dstStride * dstPages[i]} (not checked, as for
     * {@link #srcOffsetOf(int)}).
     *
     * @throws InvalidRequestException when {@code i} is not in {@code [0, pageCount())}
     */
    public long dstOffsetOf(int i) {
        return dstOffset + dstStride * dstPage(i);
    }

    private int checkPage(int i) {
        if (i < 0 || i >= srcPages.length) {
            throw new InvalidRequestException("page " + i + " out of range: the write has " + srcPages.length
                    + " pages");
        }
        return i;
    }

    /** Equal when every component is, the page arrays compared by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PagedWrite p && p.pageLength == pageLength && p.src.equals(src)
                && Arrays.equals(p.srcPages, srcPages) && p.srcStride == srcStride && p.srcOffset == srcOffset
                && p.dst.equals(dst) && Arrays.equals(p.dstPages, dstPages) && p.dstStride == dstStride
                && p.dstOffset == dstOffset && p.imm.equals(imm);
    }

    /** Consistent with {@link #equals}: the page arrays hash by content. */
    @Override
    public int hashCode() {
        return Objects.hash(pageLength, src, Arrays.hashCode(srcPages), srcStride, srcOffset, dst,
                Arrays.hashCode(dstPages), dstStride, dstOffset, imm);
    }

    /**
     * The record's form with the page arrays' contents (the first {@value #PAGES_SHOWN} indices of each, then how
     * many more) and the imm unsigned ({@link Imm}).
     */
    @Override
    public String toString() {
        return "PagedWrite[pageLength=" + pageLength + ", src=" + src + ", srcPages=" + pages(srcPages)
                + ", srcStride=" + srcStride + ", srcOffset=" + srcOffset + ", dst=" + dst + ", dstPages="
                + pages(dstPages) + ", dstStride=" + dstStride + ", dstOffset=" + dstOffset + ", imm="
                + Imm.describe(imm) + "]";
    }

    private static String pages(int[] pages) {
        if (pages.length <= PAGES_SHOWN) {
            return Arrays.toString(pages);
        }
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < PAGES_SHOWN; i++) {
            s.append(pages[i]).append(", ");
        }
        return s.append("... ").append(pages.length - PAGES_SHOWN).append(" more]").toString();
    }
}
