package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;

import java.time.Duration;

/**
 * A non-blocking CUDA stream ({@code CU_STREAM_NON_BLOCKING}: it does not synchronise with the legacy default
 * stream) on one device. Work queued on it runs in order, asynchronously to the host.
 *
 * <p>Thread-safety: the driver accepts calls on one stream from several threads, but their order is then
 * whatever order the calls happen in; most users keep a stream on one thread. {@link #close()} is idempotent
 * and does not wait: queued work still runs, then the driver frees the stream.
 */
public final class CudaStream extends NativeResource {
    private final int ordinal;
    private final long handle;

    CudaStream(int ordinal, long handle) {
        this.ordinal = ordinal;
        this.handle = handle;
    }

    /**
     * Creates a non-blocking stream on device {@code ordinal}.
     *
     * @throws InvalidRequestException      for an ordinal that does not exist
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static CudaStream create(int ordinal) {
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
        return new CudaStream(ordinal, DriverCalls.createStream(CudaConst.Flags.CU_STREAM_NON_BLOCKING));
    }

    /** The device the stream runs on. */
    public int ordinal() {
        return ordinal;
    }

    /** The raw {@code CUstream}, for handing to other CUDA libraries (it stays owned by this object). */
    public long handle() {
        return handle;
    }

    /**
     * Queues a copy of {@code lengthBytes} from {@code source} to {@code destination} ({@code cuMemcpyAsync}:
     * unified addressing, so either may be host or device memory). Host memory should be pinned for the copy
     * to be asynchronous. Both ranges must stay valid until the copy has run.
     *
     * @throws InvalidRequestException for a non-positive length, null or overflowing ranges
     */
    public void copy(long destination, long source, long lengthBytes) {
        Checks.addressRange(destination, lengthBytes, "copy destination");
        Checks.addressRange(source, lengthBytes, "copy source");
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuMemcpyAsync(destination, source, lengthBytes, handle), "cuMemcpyAsync");
    }

    /**
     * Queues a write of {@code value} to the 8-byte word at {@code deviceAddress} ({@code cuStreamWriteValue64}),
     * after everything queued before it: the way a GPU tells the host that data is ready. For host-visible
     * words use the device address of pinned memory ({@link GpuSignalWatcher.Signal#deviceAddress()}).
     *
     * @throws InvalidRequestException for a null or unaligned address
     */
    public void writeValue64(long deviceAddress, long value) {
        checkWord(deviceAddress);
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuStreamWriteValue64(handle, deviceAddress, value,
                CudaConst.Flags.CU_STREAM_WRITE_VALUE_DEFAULT), "cuStreamWriteValue64");
    }

    /**
     * Makes the stream wait, before running anything queued after this call, until the 8-byte word at
     * {@code deviceAddress} is at least {@code value} ({@code cuStreamWaitValue64} with
     * {@code CU_STREAM_WAIT_VALUE_GEQ}, which compares {@code (int64_t)(*addr - value) >= 0}). The host does
     * not wait.
     *
     * @throws InvalidRequestException for a null or unaligned address
     */
    public void waitValue64(long deviceAddress, long value) {
        checkWord(deviceAddress);
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuStreamWaitValue64(handle, deviceAddress, value,
                CudaConst.Flags.CU_STREAM_WAIT_VALUE_GEQ), "cuStreamWaitValue64");
    }

    /** Whether everything queued so far has finished ({@code cuStreamQuery}); never blocks. */
    public boolean isIdle() {
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        return DriverCalls.done(CudaDriver.cuStreamQuery(handle), "cuStreamQuery");
    }

    /**
     * Waits until everything queued so far has finished, polling {@code cuStreamQuery}; never waits longer than
     * {@code timeout}.
     *
     * @throws TransferTimeoutException when the timeout passes first
     * @throws CudaException            when the stream reports an error
     */
    public void synchronize(Duration timeout) {
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        DriverCalls.awaitStream(handle, timeout.toNanos(), describe());
    }

    private static void checkWord(long deviceAddress) {
        if (deviceAddress == 0 || (deviceAddress & 7) != 0) {
            throw new InvalidRequestException("a 64-bit stream memory operation needs a non-null, 8-byte aligned address, got 0x"
                    + Long.toHexString(deviceAddress));
        }
    }

    @Override
    void release() {
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuStreamDestroy(handle), "cuStreamDestroy");
    }

    @Override
    String describe() {
        return "stream 0x" + Long.toHexString(handle) + " on device " + ordinal;
    }
}
