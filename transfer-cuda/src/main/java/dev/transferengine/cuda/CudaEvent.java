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
 * A CUDA event: a marker recorded into a stream that completes when the stream reaches it. Created without
 * timing ({@code CU_EVENT_DISABLE_TIMING}, the cheap kind) by {@link #create}, or with timing by
 * {@link #createTimed} for {@link #elapsedMillisSince}.
 *
 * <p>Thread-safety: queries may come from any thread; recording concurrently with queries gives whichever
 * record happened last. {@link #close()} is idempotent.
 */
public final class CudaEvent extends NativeResource {
    private final int ordinal;
    private final long handle;
    private final boolean timed;

    private CudaEvent(int ordinal, long handle, boolean timed) {
        this.ordinal = ordinal;
        this.handle = handle;
        this.timed = timed;
    }

    /**
     * Creates an event without timing on device {@code ordinal}.
     *
     * @throws InvalidRequestException      for an ordinal that does not exist
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static CudaEvent create(int ordinal) {
        return create(ordinal, false);
    }

    /** Creates an event that records timestamps, for {@link #elapsedMillisSince}. */
    public static CudaEvent createTimed(int ordinal) {
        return create(ordinal, true);
    }

    private static CudaEvent create(int ordinal, boolean timed) {
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
        int flags = timed ? CudaConst.Flags.CU_EVENT_DEFAULT : CudaConst.Flags.CU_EVENT_DISABLE_TIMING;
        return new CudaEvent(ordinal, DriverCalls.createEvent(flags), timed);
    }

    /** The device the event belongs to. */
    public int ordinal() {
        return ordinal;
    }

    /**
     * Records the event into {@code stream}: it completes when the stream has finished everything queued
     * before this call.
     *
     * @throws InvalidRequestException when the stream belongs to another device
     */
    public void record(CudaStream stream) {
        if (stream.ordinal() != ordinal) {
            throw new InvalidRequestException("event of device " + ordinal + " cannot be recorded into a stream of device "
                    + stream.ordinal());
        }
        ensureOpen();
        stream.ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuEventRecord(handle, stream.handle()), "cuEventRecord");
    }

    /** Whether the event has completed ({@code cuEventQuery}; true for a never-recorded event). Never blocks. */
    public boolean isDone() {
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        return DriverCalls.done(CudaDriver.cuEventQuery(handle), "cuEventQuery");
    }

    /**
     * Waits until the event has completed, polling; never longer than {@code timeout}.
     *
     * @throws TransferTimeoutException when the timeout passes first
     */
    public void synchronize(Duration timeout) {
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        DriverCalls.awaitEvent(handle, timeout.toNanos(), describe());
    }

    /**
     * Milliseconds between {@code start} completing and this event completing (both timed and completed).
     *
     * @throws InvalidRequestException when either event was created without timing
     */
    public float elapsedMillisSince(CudaEvent start) {
        if (!timed || !start.timed) {
            throw new InvalidRequestException("elapsed time needs two events made with createTimed");
        }
        ensureOpen();
        start.ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        return DriverCalls.elapsedMillis(start.handle, handle);
    }

    @Override
    void release() {
        PrimaryContexts.makeCurrent(ordinal);
        CudaErrors.check(CudaDriver.cuEventDestroy(handle), "cuEventDestroy");
    }

    @Override
    String describe() {
        return (timed ? "timed " : "") + "event 0x" + Long.toHexString(handle) + " on device " + ordinal;
    }
}
