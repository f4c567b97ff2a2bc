package dev.transferengine.cuda;

import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.PrimaryContexts;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine's own copy kernel, {@code te_batch_copy} ({@code src/main/cuda/te_copy_kernels.cu}, shipped as PTX and
 * JIT-compiled by the driver): up to {@link #MAX_COPIES} unrelated copies in one {@code cuLaunchKernel}, their
 * addresses and lengths passed by value as the kernel's parameter. Why: on the H200 a copy of one 8 KiB KV page costs
 * the copy engine about 5 µs whatever the API ({@code cuMemcpyAsync} one by one or {@code cuMemcpyBatchAsync}), so
 * scattered pages moved at 1.2-1.9 GB/s; one kernel moves a whole batch of them.
 *
 * <p>Only for copies whose source and destination lie at the same offset within 16 bytes (any length) and whose
 * every range is memory of (or mapped into) the launching device: the kernel reads and writes the whole words with
 * 16-byte loads and stores (the bytes before the first and after the last one at a time), and cannot reach pageable
 * host memory. The module is loaded once per device (its primary context) on first use; when loading fails
 * (a driver too old for the PTX, say) the kernel is off for that device, with one warning, and batches go to the
 * copy engine. {@code te.cuda.copyKernel=false} turns it off (measurements only).
 *
 * <p>One instance per copy queue (its parameter buffer is reused); single-threaded like the queue.
 */
final class CudaCopyKernel {
    /** {@code TE_MAX_COPIES} in the kernel source. */
    static final int MAX_COPIES = 128;
    private static final String RESOURCE = "te_copy_kernels.ptx";
    private static final String ENTRY = "te_batch_copy";
    private static final int THREADS = 256;
    /** Bytes per block a copy is given (a block moves THREADS x 16 bytes per pass); at most MAX_PARTS blocks. */
    private static final long BYTES_PER_PART = 16 << 10;
    private static final int MAX_PARTS = 64;
    private static final boolean ENABLED = !"false".equals(System.getProperty("te.cuda.copyKernel"));
    private static final System.Logger LOG = System.getLogger(CudaCopyKernel.class.getName());
    /** The loaded function per device ordinal; 0 when loading failed there. */
    private static final ConcurrentHashMap<Integer, Long> FUNCTIONS = new ConcurrentHashMap<>();

    private final long function;
    /** The kernel's parameter: {@code struct te_batch { u64 dst[128], src[128], len[128]; }}. */
    private final MemorySegment batch;
    /** {@code void *kernelParams[1]}, pointing at {@link #batch}. */
    private final MemorySegment kernelParams;

    private CudaCopyKernel(long function, Arena arena) {
        this.function = function;
        this.batch = arena.allocate(3L * 8 * MAX_COPIES, 8);
        this.kernelParams = arena.allocate(ADDRESS);
        kernelParams.set(ADDRESS, 0, batch);
    }

    /** A launcher for {@code ordinal}, or null when the kernel is off or could not be loaded there. */
    static CudaCopyKernel openIfSupported(int ordinal) {
        if (!ENABLED) {
            return null;
        }
        long f = FUNCTIONS.computeIfAbsent(ordinal, CudaCopyKernel::load);
        return f == 0 ? null : new CudaCopyKernel(f, Arena.ofAuto());
    }

    /**
     * Whether the kernel can take copies {@code 0 .. count - 1}: each copy's source and destination lie at the same
     * offset within 16 bytes (lengths are free: the kernel moves the bytes before the first and after the last
     * whole 16-byte word one at a time).
     */
    static boolean copyable(long[] destination, long[] source, int count) {
        long bits = 0;
        for (int i = 0; i < count; i++) {
            bits |= destination[i] ^ source[i];
        }
        return (bits & 15) == 0;
    }

    /** Queues copies {@code 0 .. count - 1} as one kernel on {@code stream}; the caller checked them. */
    void launch(long[] destination, long[] source, long[] length, int count, long stream, int ordinal) {
        long longest = 0;
        for (int i = 0; i < count; i++) {
            batch.setAtIndex(JAVA_LONG, i, destination[i]);
            batch.setAtIndex(JAVA_LONG, MAX_COPIES + i, source[i]);
            batch.setAtIndex(JAVA_LONG, 2 * MAX_COPIES + i, length[i]);
            longest = Math.max(longest, length[i]);
        }
        int parts = (int) Math.min(MAX_PARTS, Math.max(1, (longest + BYTES_PER_PART - 1) / BYTES_PER_PART));
        int result = CudaDriver.cuLaunchKernel(function, count, parts, 1, THREADS, 1, 1, 0, stream, kernelParams,
                MemorySegment.NULL);
        if (result != 0) {
            throw CudaErrors.exception("cuLaunchKernel(" + ENTRY + ", " + count + " copies, device " + ordinal + ")",
                    result);
        }
    }

    private static long load(int ordinal) {
        try (Arena arena = Arena.ofConfined(); InputStream in = CudaCopyKernel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException(RESOURCE + " is not on the class path");
            }
            byte[] ptx = in.readAllBytes();
            MemorySegment image = arena.allocate(ptx.length + 1L); // zeroed: the text ends with a NUL
            MemorySegment.copy(ptx, 0, image, JAVA_BYTE, 0, ptx.length);
            MemorySegment out = arena.allocate(JAVA_LONG);
            PrimaryContexts.makeCurrent(ordinal);
            int result = CudaDriver.cuModuleLoadData(out, image);
            if (result == 0) {
                long module = out.get(JAVA_LONG, 0);
                result = CudaDriver.cuModuleGetFunction(out, module, arena.allocateFrom(ENTRY));
                if (result == 0) {
                    return out.get(JAVA_LONG, 0);
                }
            }
            LOG.log(System.Logger.Level.WARNING, "the copy kernel is off on device " + ordinal + ": loading "
                    + RESOURCE + " failed (" + CudaErrors.describe(result) + "); batches go to the copy engine");
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the copy kernel is off on device " + ordinal + ": " + e);
        }
        return 0;
    }
}
