package dev.transferengine.cuda;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaLibrary;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.Libc;
import dev.transferengine.cuda.internal.PrimaryContexts;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engine's {@link DeviceBackend} on the CUDA driver, found with {@link java.util.ServiceLoader}. Every
 * method validates its arguments in Java first, then throws {@link ProviderUnavailableException} (with the
 * loader's cause) where CUDA is unavailable.
 *
 * <p>Thread-safety as the interface says: everything except a copy queue may be used from any thread.
 */
public final class CudaDeviceBackend implements DeviceBackend {
    private final java.util.Map<Long, CudaIpc.Mapping> ipcMappings = new java.util.concurrent.ConcurrentHashMap<>();
    /** Pinned allocations by host address, so frees are idempotent and foreign segments are ignored. */
    private final Map<Long, Long> pinned = new ConcurrentHashMap<>();
    private final int copyQueueRing;

    /** The backend the service loader creates: copy queues with a ring of 256 events. */
    public CudaDeviceBackend() {
        this(CudaCopyQueue.DEFAULT_RING);
    }

    CudaDeviceBackend(int copyQueueRing) {
        this.copyQueueRing = copyQueueRing;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Availability availability() {
        return CudaLibrary.availability();
    }

    @Override
    public int deviceCount() {
        return CudaLibrary.deviceCount();
    }

    /**
     * Asks the driver about {@code address} ({@code cuPointerGetAttributes}) and checks that the whole range is
     * plain (not managed) device memory of {@code ordinal} inside one live allocation.
     */
    @Override
    public DeviceAllocation checkRange(int ordinal, long address, long lengthBytes) {
        Checks.addressRange(address, lengthBytes, "device range");
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
        PointerInfo info = DriverCalls.pointerInfo(address);
        String range = "[0x" + Long.toHexString(address) + ", +" + lengthBytes + ")";
        if (info.memoryType() != PointerInfo.MemoryType.DEVICE) {
            throw new InvalidRequestException(range + " is not device memory (the driver reports "
                    + info.memoryType() + ": host, freed or never allocated)");
        }
        if (info.managed()) {
            throw new InvalidRequestException(range + " is managed (unified) memory, which cannot be registered for RDMA");
        }
        if (info.ordinal() != ordinal) {
            throw new InvalidRequestException(range + " is memory of device " + info.ordinal() + ", not of device " + ordinal);
        }
        if (address + lengthBytes > info.rangeEnd()) {
            throw new InvalidRequestException(range + " runs past its allocation [0x" + Long.toHexString(info.rangeStart())
                    + ", 0x" + Long.toHexString(info.rangeEnd()) + ") of " + info.rangeBytes() + " bytes");
        }
        return new DeviceAllocation(ordinal, info.rangeStart(), info.rangeBytes());
    }

    @Override
    public DeviceCopyQueue openCopyQueue(int ordinal) {
        Checks.availableDevice(ordinal);
        return CudaCopyQueue.open(ordinal, copyQueueRing);
    }

    /** {@code cuMemHostAlloc(PORTABLE | DEVICEMAP)}; the segment is global-scoped: free it with {@link #freePinnedHost}. */
    @Override
    public MemorySegment allocatePinnedHost(long bytes) {
        Checks.positive(bytes, "pinned allocation length");
        CudaLibrary.require();
        long address = CudaPinnedMemory.allocateRaw(bytes);
        pinned.put(address, bytes);
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** Frees a segment from {@link #allocatePinnedHost}; a second call, or a segment from elsewhere, does nothing. */
    @Override
    public void freePinnedHost(MemorySegment segment) {
        if (segment != null && pinned.remove(segment.address()) != null) {
            CudaPinnedMemory.freeRaw(segment.address());
        }
    }

    /**
     * {@code cuMemGetHandleForAddressRange(CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD)}. Where the driver or kernel
     * does not support dma-buf ({@code CUDA_ERROR_NOT_SUPPORTED}) this throws
     * {@link ProviderUnavailableException} with the driver's error as the cause.
     *
     * @throws InvalidRequestException when the range is empty, unaligned to the host page size, or not device memory
     */
    @Override
    public int exportDmabuf(long address, long lengthBytes) {
        Checks.addressRange(address, lengthBytes, "dma-buf range");
        long page = Libc.pageSize();
        if (address % page != 0 || lengthBytes % page != 0) {
            throw new InvalidRequestException("a dma-buf range must start and end on a " + page
                    + "-byte page boundary: [0x" + Long.toHexString(address) + ", +" + lengthBytes + ")");
        }
        CudaLibrary.require();
        PrimaryContexts.makeAnyCurrent();
        PointerInfo info = DriverCalls.pointerInfo(address);
        if (!info.isPlainDeviceMemory()) {
            throw new InvalidRequestException("0x" + Long.toHexString(address) + " is not device memory (" + info.memoryType() + ")");
        }
        PrimaryContexts.makeCurrent(info.ordinal());
        try {
            return DriverCalls.dmabufFd(address, lengthBytes);
        } catch (CudaException e) {
            if (e.result() == CudaConst.Result.CUDA_ERROR_NOT_SUPPORTED) {
                throw new ProviderUnavailableException("dma-buf export is not supported by this driver or kernel "
                        + "(needs the open NVIDIA kernel modules and Linux 5.12+)", e);
            }
            throw e;
        }
    }

    /** {@link CudaIpc#handle}; a driver refusal (VMM memory, no IPC) becomes UNAVAILABLE so callers fall back. */
    @Override
    public byte[] exportIpc(long allocationBase) {
        try {
            return CudaIpc.handle(allocationBase);
        } catch (CudaException e) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "cuIpcGetMemHandle refused 0x"
                    + Long.toHexString(allocationBase) + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@link CudaIpc#open}. The driver refuses handles of this very process and of processes that are gone: those
     * become UNAVAILABLE, so the engine writes through the NIC instead.
     */
    @Override
    public long openIpc(byte[] handle, int ordinal) {
        try {
            CudaIpc.Mapping mapping = CudaIpc.open(handle, ordinal);
            ipcMappings.put(mapping.address(), mapping);
            return mapping.address();
        } catch (CudaException e) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "cuIpcOpenMemHandle refused the handle on device "
                    + ordinal + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void closeIpc(long mappedBase) {
        CudaIpc.Mapping mapping = ipcMappings.remove(mappedBase);
        if (mapping != null) {
            mapping.close();
        }
    }

    @Override
    public String toString() {
        return "CudaDeviceBackend[" + (CudaLibrary.isAvailable() ? deviceCount() + " device(s)" : "unavailable") + "]";
    }
}
