package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * Device memory from {@code cuMemAlloc}: a range of one device's memory that the engine can register and the
 * GPU can compute on. {@link #address()} is a unified virtual address, never dereferenced on the host.
 *
 * <p>The copy and fill helpers are synchronous (they return when the bytes have landed, or throw
 * {@link dev.transferengine.api.TransferTimeoutException} after {@link #SYNC_TIMEOUT}) and bounds-checked in
 * Java before any native call; they run on the device's legacy default stream, so they are meant for setup
 * and tests, not the data path. Thread-safety: the helpers may be called from any thread; {@link #close()} is
 * idempotent and must not race with a helper or with GPU work that still uses the memory.
 */
public final class CudaDeviceMemory extends NativeResource {
    /** How long a synchronous helper waits for the device before it gives up. */
    public static final Duration SYNC_TIMEOUT = Duration.ofSeconds(60);
    private static final long LEGACY_DEFAULT_STREAM = 0;

    private final int ordinal;
    private final long address;
    private final long lengthBytes;

    /** Wraps an allocation this object then owns (tests build one over no memory to check validation). */
    CudaDeviceMemory(int ordinal, long address, long lengthBytes) {
        this.ordinal = ordinal;
        this.address = address;
        this.lengthBytes = lengthBytes;
    }

    /**
     * Allocates {@code lengthBytes} of device memory on device {@code ordinal} (contents undefined).
     *
     * @throws InvalidRequestException      for a non-positive length or an ordinal that does not exist
     * @throws CudaException                when the driver fails (for example out of memory)
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static CudaDeviceMemory allocate(int ordinal, long lengthBytes) {
        Checks.positive(lengthBytes, "device allocation length");
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
        return new CudaDeviceMemory(ordinal, DriverCalls.memAlloc(lengthBytes), lengthBytes);
    }

    /** The device pointer of the first byte. */
    public long address() {
        return address;
    }

    /** Size of the allocation in bytes. */
    public long lengthBytes() {
        return lengthBytes;
    }

    /** The device this memory belongs to. */
    public int ordinal() {
        return ordinal;
    }

    /**
     * Copies all of {@code source} (host memory, heap or native) to {@code [dstOffset, dstOffset +
     * source.byteSize())} of this allocation, and waits for it.
     *
     * @throws InvalidRequestException when the destination range is outside this allocation
     */
    public void copyFromHost(MemorySegment source, long dstOffset) {
        Checks.within(dstOffset, source.byteSize(), lengthBytes, "copyFromHost destination");
        ensureOpen();
        if (source.byteSize() == 0) {
            return;
        }
        PrimaryContexts.makeCurrent(ordinal);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeSource = source.isNative() ? source : arena.allocate(source.byteSize()).copyFrom(source);
            CudaErrors.check(CudaDriver.cuMemcpyHtoDAsync(address + dstOffset, nativeSource.address(),
                    source.byteSize(), LEGACY_DEFAULT_STREAM), "cuMemcpyHtoDAsync(" + source.byteSize() + " bytes)");
            DriverCalls.awaitStream(LEGACY_DEFAULT_STREAM, SYNC_TIMEOUT.toNanos(), "copy to " + describe());
        }
    }

    /**
     * Copies {@code [srcOffset, srcOffset + destination.byteSize())} of this allocation into all of
     * {@code destination} (host memory, heap or native), and waits for it.
     *
     * @throws InvalidRequestException when the source range is outside this allocation, or the destination is
     *                                 read-only
     */
    public void copyToHost(long srcOffset, MemorySegment destination) {
        Checks.within(srcOffset, destination.byteSize(), lengthBytes, "copyToHost source");
        if (destination.isReadOnly()) {
            throw new InvalidRequestException("copyToHost destination is read-only");
        }
        ensureOpen();
        if (destination.byteSize() == 0) {
            return;
        }
        PrimaryContexts.makeCurrent(ordinal);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeDestination = destination.isNative() ? destination : arena.allocate(destination.byteSize());
            CudaErrors.check(CudaDriver.cuMemcpyDtoHAsync(nativeDestination.address(), address + srcOffset,
                    destination.byteSize(), LEGACY_DEFAULT_STREAM), "cuMemcpyDtoHAsync(" + destination.byteSize() + " bytes)");
            DriverCalls.awaitStream(LEGACY_DEFAULT_STREAM, SYNC_TIMEOUT.toNanos(), "copy from " + describe());
            if (nativeDestination != destination) {
                destination.copyFrom(nativeDestination);
            }
        }
    }

    /** Sets every byte of the allocation to {@code value}, and waits for it. */
    public void fill(byte value) {
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuMemsetD8(address, value & 0xff, lengthBytes), "cuMemsetD8(" + describe() + ")");
        DriverCalls.awaitStream(LEGACY_DEFAULT_STREAM, SYNC_TIMEOUT.toNanos(), "fill of " + describe());
    }

    @Override
    void release() {
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuMemFree(address), "cuMemFree(" + describe() + ")");
    }

    @Override
    String describe() {
        return "device memory 0x" + Long.toHexString(address) + " (" + lengthBytes + " bytes, device " + ordinal + ")";
    }
}
