package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.CudaLibrary;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory that every device can read and write directly ({@code cuMemHostAlloc} with
 * {@code PORTABLE | DEVICEMAP}): bounce buffers, and words a GPU stream writes for the host to see
 * ({@link GpuSignalWatcher}). {@link #segment()} is the host view, {@link #deviceAddress()} the address
 * kernels and stream memory operations use.
 *
 * <p>The segment belongs to a shared arena that {@link #close()} closes, so touching it after close fails
 * with {@link IllegalStateException} instead of crashing. Thread-safe; close is idempotent.
 */
public final class CudaPinnedMemory extends NativeResource {
    /** {@code CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP}. */
    static final int FLAGS = CudaConst.Flags.CU_MEMHOSTALLOC_PORTABLE | CudaConst.Flags.CU_MEMHOSTALLOC_DEVICEMAP;

    private final Arena arena;
    private final MemorySegment segment;
    private final long hostAddress;
    private final long deviceAddress;

    private CudaPinnedMemory(long hostAddress, long lengthBytes, long deviceAddress) {
        this.arena = Arena.ofShared();
        this.hostAddress = hostAddress;
        this.segment = MemorySegment.ofAddress(hostAddress).reinterpret(lengthBytes, arena, null);
        this.deviceAddress = deviceAddress;
    }

    /**
     * Allocates {@code lengthBytes} of pinned, device-mapped host memory (contents undefined).
     *
     * @throws InvalidRequestException      for a non-positive length
     * @throws CudaException                when the driver fails
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static CudaPinnedMemory allocate(long lengthBytes) {
        Checks.positive(lengthBytes, "pinned allocation length");
        CudaLibrary.require();
        long host = allocateRaw(lengthBytes);
        try {
            return new CudaPinnedMemory(host, lengthBytes, DriverCalls.hostDevicePointer(host));
        } catch (RuntimeException e) {
            CudaDriver.cuMemFreeHost(host);
            throw e;
        }
    }

    /** {@code cuMemHostAlloc(PORTABLE | DEVICEMAP)}: portable, so any device's context will do. */
    static long allocateRaw(long lengthBytes) {
        PrimaryContexts.makeAnyCurrent();
        return DriverCalls.memHostAlloc(lengthBytes, FLAGS);
    }

    static void freeRaw(long hostAddress) {
        PrimaryContexts.makeAnyCurrent();
        CudaErrors.check(CudaDriver.cuMemFreeHost(hostAddress), "cuMemFreeHost(0x" + Long.toHexString(hostAddress) + ")");
    }

    /** The host view; inaccessible after {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    /** The host address of the first byte. */
    public long hostAddress() {
        return hostAddress;
    }

    /** The device address of the first byte (for kernels and {@link CudaStream#writeValue64}). */
    public long deviceAddress() {
        return deviceAddress;
    }

    /** Size in bytes. */
    public long lengthBytes() {
        return segment.byteSize();
    }

    @Override
    void release() {
        arena.close();
        freeRaw(hostAddress);
    }

    @Override
    String describe() {
        return "pinned host memory 0x" + Long.toHexString(hostAddress) + " (" + segment.byteSize() + " bytes)";
    }
}
