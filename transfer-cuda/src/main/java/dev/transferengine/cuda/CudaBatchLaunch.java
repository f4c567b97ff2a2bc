package dev.transferengine.cuda;

import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.CudaLayouts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Launches up to {@link #MAX_COPIES} unrelated copies on a stream at once, the fastest way the device allows:
 *
 * <ol>
 *   <li>the engine's copy kernel ({@link CudaCopyKernel}) when the caller says every range is on the device and
 *   each copy's source and destination lie at the same offset within 16 bytes;</li>
 *   <li>otherwise one {@code cuMemcpyBatchAsync} (CUDA 13.0 driver API) on the copy engines, every copy reading its
 *   source in stream order (as {@code cuMemcpyAsync} does), no location hints, no flags. If the driver refuses it,
 *   the same copies go out one by one with {@code cuMemcpyAsync} (relaunching a copy the failed batch may have queued
 *   is harmless: same source, same destination, source stable until done); only when those fail does the caller
 *   see the error;</li>
 *   <li>one {@code cuMemcpyAsync} per copy when the driver has no batch copy.</li>
 * </ol>
 *
 * {@code te.cuda.batchCopies=false} turns the copy-engine batch off (measurements only). Native arrays are allocated
 * once, with the queue. Single-threaded, like the copy queue that owns it. No allocation per launch.
 */
final class CudaBatchLaunch {
    /** The most copies one launch takes. */
    static final int MAX_COPIES = CudaCopyKernel.MAX_COPIES;
    private static final boolean BATCH_API = !"false".equals(System.getProperty("te.cuda.batchCopies"));
    private static final VarHandle SRC_ACCESS_ORDER = CudaLayouts.MEMCPY_ATTRIBUTES.varHandle(
            MemoryLayout.PathElement.groupElement("srcAccessOrder"));
    private static final System.Logger LOG = System.getLogger(CudaBatchLaunch.class.getName());
    private static volatile boolean refusalLogged;
    /** Batches the driver refused in this JVM (each then launched copy by copy). */
    private static final AtomicLong REFUSED = new AtomicLong();
    /** Batches launched as the copy kernel in this JVM. */
    private static final AtomicLong KERNELS = new AtomicLong();

    /** Null when the kernel is off or did not load on this device. */
    private final CudaCopyKernel kernel;
    /** The {@code cuMemcpyBatchAsync} arrays; null when the driver has none (or it is turned off). */
    private final MemorySegment destinations;
    private final MemorySegment sources;
    private final MemorySegment sizes;
    private final MemorySegment attributes;
    private final MemorySegment attributeIndices;

    private CudaBatchLaunch(CudaCopyKernel kernel, boolean batchApi, Arena arena) {
        this.kernel = kernel;
        if (batchApi) {
            destinations = arena.allocate(JAVA_LONG, MAX_COPIES);
            sources = arena.allocate(JAVA_LONG, MAX_COPIES);
            sizes = arena.allocate(JAVA_LONG, MAX_COPIES);
            attributes = arena.allocate(CudaLayouts.MEMCPY_ATTRIBUTES); // zeroed: no hints, no flags
            SRC_ACCESS_ORDER.set(attributes, 0L, CudaConst.Flags.CU_MEMCPY_SRC_ACCESS_ORDER_STREAM);
            attributeIndices = arena.allocate(JAVA_LONG); // one attribute set, from copy 0
        } else {
            destinations = null;
            sources = null;
            sizes = null;
            attributes = null;
            attributeIndices = null;
        }
    }

    /**
     * A launcher for a queue on {@code ordinal} (its context current), or null when the device has neither the
     * kernel nor a batch copy: copies then go one by one.
     */
    static CudaBatchLaunch openIfSupported(int ordinal) {
        CudaCopyKernel kernel = CudaCopyKernel.openIfSupported(ordinal);
        boolean batchApi = BATCH_API && CudaDriver.hasMemcpyBatchAsync();
        return kernel == null && !batchApi ? null : new CudaBatchLaunch(kernel, batchApi, Arena.ofAuto());
    }

    /**
     * Queues copies {@code 0 .. count - 1} on {@code stream}; the caller checked every range and the count, and
     * made the context current.
     *
     * @param onDevice every range is memory of this device (or mapped into it): the kernel may run them
     */
    void launch(long[] destination, long[] source, long[] length, int count, boolean onDevice, long stream,
                int ordinal) {
        if (onDevice && kernel != null && CudaCopyKernel.copyable(destination, source, count)) {
            kernel.launch(destination, source, length, count, stream, ordinal);
            KERNELS.incrementAndGet();
            return;
        }
        if (destinations == null) {
            launchOneByOne(destination, source, length, count, stream, ordinal);
            return;
        }
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

    /** Batches launched as the copy kernel in this JVM so far (tests). */
    static long kernels() {
        return KERNELS.get();
    }

    /** The same copies with one {@code cuMemcpyAsync} each. */
    private static void launchOneByOne(long[] destination, long[] source, long[] length, int count, long stream,
                                       int ordinal) {
        for (int i = 0; i < count; i++) {
            int result = CudaDriver.cuMemcpyAsync(destination[i], source[i], length[i], stream);
            if (result != 0) {
                throw CudaErrors.exception("cuMemcpyAsync(" + length[i] + " bytes, device " + ordinal + ")", result);
            }
        }
    }
}
