package dev.transferengine.cuda;

import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.CudaLayouts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Launches up to {@link #MAX_COPIES} unrelated copies on a stream with one {@code cuMemcpyBatchAsync} (CUDA 13.0
 * driver API): the native arrays it needs are allocated once, with the queue. Every copy gets the same attributes:
 * the source is read in stream order (as {@code cuMemcpyAsync} reads it), no location hints, no flags.
 *
 * <p>If the driver refuses a batch, the same copies are launched one by one with {@code cuMemcpyAsync} (relaunching
 * a copy that the failed batch may have queued is harmless: same source, same destination, source stable until
 * done); only when those fail too does the caller see the error. {@code te.cuda.batchCopies=false} turns batches
 * off (measurements only).
 *
 * <p>Single-threaded, like the copy queue that owns it. No allocation per launch.
 */
final class CudaBatchLaunch {
    /** The most copies one launch takes. */
    static final int MAX_COPIES = 128;
    private static final boolean ENABLED = !"false".equals(System.getProperty("te.cuda.batchCopies"));
    private static final VarHandle SRC_ACCESS_ORDER = CudaLayouts.MEMCPY_ATTRIBUTES.varHandle(
            MemoryLayout.PathElement.groupElement("srcAccessOrder"));
    private static final System.Logger LOG = System.getLogger(CudaBatchLaunch.class.getName());
    private static volatile boolean refusalLogged;
    /** Batches the driver refused in this JVM (each then launched copy by copy). */
    private static final java.util.concurrent.atomic.AtomicLong REFUSED = new java.util.concurrent.atomic.AtomicLong();

    private final MemorySegment destinations;
    private final MemorySegment sources;
    private final MemorySegment sizes;
    private final MemorySegment attributes;
    private final MemorySegment attributeIndices;

    private CudaBatchLaunch(Arena arena) {
        destinations = arena.allocate(JAVA_LONG, MAX_COPIES);
        sources = arena.allocate(JAVA_LONG, MAX_COPIES);
        sizes = arena.allocate(JAVA_LONG, MAX_COPIES);
        attributes = arena.allocate(CudaLayouts.MEMCPY_ATTRIBUTES); // zeroed: no hints, no flags
        SRC_ACCESS_ORDER.set(attributes, 0L, CudaConst.Flags.CU_MEMCPY_SRC_ACCESS_ORDER_STREAM);
        attributeIndices = arena.allocate(JAVA_LONG); // one attribute set, from copy 0
    }

    /** A launcher, or null when the driver has no batch copy (or it is turned off): copies then go one by one. */
    static CudaBatchLaunch openIfSupported() {
        return ENABLED && CudaDriver.hasMemcpyBatchAsync() ? new CudaBatchLaunch(Arena.ofAuto()) : null;
    }

    /**
     * Queues copies {@code 0 .. count - 1} on {@code stream}; the caller checked every range and the count, and
     * made the context current.
     */
    void launch(long[] destination, long[] source, long[] length, int count, long stream, int ordinal) {
        for (int i = 0; i < count; i++) {
            destinations.setAtIndex(JAVA_LONG, i, destination[i]);
            sources.setAtIndex(JAVA_LONG, i, source[i]);
            sizes.setAtIndex(JAVA_LONG, i, length[i]);
        }
        int result = CudaDriver.cuMemcpyBatchAsync(destinations, sources, sizes, count, attributes, attributeIndices,
                1, stream);
        if (result == 0) {
            return;
        }
        REFUSED.incrementAndGet();
        if (!refusalLogged) {
            refusalLogged = true;
            LOG.log(System.Logger.Level.WARNING, "cuMemcpyBatchAsync of " + count + " copies on device " + ordinal
                    + " failed (" + CudaErrors.describe(result) + "); launching such batches copy by copy");
        }
        launchOneByOne(destination, source, length, count, stream, ordinal);
    }

    /** Batches the driver refused in this JVM so far (tests). */
    static long refused() {
        return REFUSED.get();
    }

    /** The same copies with one {@code cuMemcpyAsync} each (also the way without a batch launcher). */
    static void launchOneByOne(long[] destination, long[] source, long[] length, int count, long stream,
                               int ordinal) {
        for (int i = 0; i < count; i++) {
            CudaErrors.check(CudaDriver.cuMemcpyAsync(destination[i], source[i], length[i], stream),
                    "cuMemcpyAsync(" + length[i] + " bytes, device " + ordinal + ")");
        }
    }
}
