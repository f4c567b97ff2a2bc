package dev.transferengine.spi;

import dev.transferengine.api.InvalidRequestException;

import java.lang.foreign.MemorySegment;

/**
 * The device (GPU) operations the engine and the providers need, as a pure-Java contract: the CUDA
 * implementation lives in {@code transfer-cuda} (found with {@link java.util.ServiceLoader}), and a
 * host-memory test double in core's test-jar drives the same engine paths on machines without a GPU.
 *
 * <p>Addresses are unified virtual addresses: with CUDA's unified addressing a device pointer and a
 * host pointer never collide, so one {@code long} names either. Nothing here ever dereferences a device
 * address on the host.
 *
 * <p>Thread-safety: {@link #availability()}, {@link #deviceCount()}, {@link #checkRange} and
 * {@link #exportDmabuf} may be called from any thread. A {@link DeviceCopyQueue} belongs to the thread
 * that opened it (a group's worker). Pinned host memory may be allocated and freed from any thread.
 */
public interface DeviceBackend {

    /** A short name for messages ({@code "cuda"}). */
    String name();

    /** Whether the backend can run here, and if not, why (driver missing, no device). Probed once. */
    Availability availability();

    /** Number of devices visible to this process; 0 when unavailable. */
    int deviceCount();

    /**
     * Checks that {@code [address, address + lengthBytes)} is device memory of {@code ordinal} and lies
     * inside one allocation, and describes that allocation.
     *
     * @throws InvalidRequestException when the range is host memory, another device's memory, freed memory,
     *                                 or runs past its allocation
     * @throws dev.transferengine.api.ProviderUnavailableException when the backend is unavailable
     */
    DeviceAllocation checkRange(int ordinal, long address, long lengthBytes);

    /** Opens an in-order queue of asynchronous copies on device {@code ordinal} (a CUDA stream). */
    DeviceCopyQueue openCopyQueue(int ordinal);

    /**
     * Allocates {@code bytes} of page-locked host memory that devices can DMA into (bounce buffers).
     * Free it with {@link #freePinnedHost}; the segment is global-scoped and must not be used after that.
     */
    MemorySegment allocatePinnedHost(long bytes);

    /** Frees memory from {@link #allocatePinnedHost}. Idempotent per segment. */
    void freePinnedHost(MemorySegment pinned);

    /**
     * Exports {@code [address, address + lengthBytes)} of device memory as a dma-buf file descriptor (for
     * {@code ibv_reg_dmabuf_mr}); the caller closes it. Both ends must be aligned to the host page size.
     *
     * @throws dev.transferengine.api.TransferException (category UNAVAILABLE) when the driver cannot
     */
    int exportDmabuf(long address, long lengthBytes);

    /**
     * Exports the allocation starting at {@code allocationBase} for other processes of this host (CUDA
     * {@code cuIpcGetMemHandle}): 64 bytes another process passes to {@link #openIpc}.
     *
     * @throws dev.transferengine.api.TransferException (category UNAVAILABLE) when the backend cannot
     */
    default byte[] exportIpc(long allocationBase) {
        throw new dev.transferengine.api.TransferException(dev.transferengine.api.ErrorCategory.UNAVAILABLE,
                name() + " cannot export IPC handles");
    }

    /**
     * Maps another process's exported allocation into this process for device {@code ordinal}'s copies (CUDA
     * {@code cuIpcOpenMemHandle}); returns the mapping's base address. Close it with {@link #closeIpc}.
     *
     * @throws dev.transferengine.api.TransferException (category UNAVAILABLE) when the handle cannot be opened
     *                                                  here (another host, the exporting process itself, gone)
     */
    default long openIpc(byte[] handle, int ordinal) {
        throw new dev.transferengine.api.TransferException(dev.transferengine.api.ErrorCategory.UNAVAILABLE,
                name() + " cannot open IPC handles");
    }

    /** Unmaps what {@link #openIpc} mapped. */
    default void closeIpc(long mappedBase) {
    }

    /**
     * The allocation a checked range lies in.
     *
     * @param ordinal     the device that owns it
     * @param base        first byte of the allocation
     * @param lengthBytes size of the allocation
     */
    record DeviceAllocation(int ordinal, long base, long lengthBytes) {
    }
}
