package dev.transferengine.api;

import java.lang.foreign.MemorySegment;

/**
 * A local handle to memory registered with every NIC of one group. Use it as the source of writes
 * and sends, as the target of receives, and (for {@link Access#REMOTE_WRITE}) hand its
 * {@link #descriptor()} to peers.
 *
 * <p>Thread-safe. {@link #close()} deregisters on every NIC that registered it; it is idempotent.
 * Requests naming a closed region are rejected with {@link ClosedException}; the caller must not
 * close a region while its own transfers are in flight (they fail or complete, but the bytes are
 * undefined). The segment must stay alive while registered: a segment whose arena was closed makes
 * later requests fail with {@link ClosedException}, never touching freed memory.
 */
public interface MemoryRegion extends AutoCloseable {

    /**
     * The registered memory. For device memory, a zero-length segment whose address is the device pointer:
     * device memory has no host view (read it back with a device copy).
     */
    MemorySegment segment();

    /** Where the memory lives: host memory of a group, or a CUDA device. */
    default Device device() {
        return Device.host(group());
    }

    /** The registered memory's base address (a device pointer for device memory). */
    default long address() {
        return segment().address();
    }

    /** The registered length in bytes. */
    default long lengthBytes() {
        return segment().byteSize();
    }

    /** The group (worker) that owns the region. */
    int group();

    /** What the registration allows. */
    Access access();

    /**
     * The descriptor peers use to write into this region.
     *
     * @throws InvalidRequestException if the region was registered with {@link Access#LOCAL}
     */
    RemoteRegion descriptor();

    /**
     * Makes the bytes peers wrote into {@code [offset, offset + length)} visible in the region's memory, waiting
     * at most {@code timeout}. Needed only for GPU memory registered with a provider that cannot register device
     * memory (a libfabric built without CUDA, tcp): there the engine gives peers a pinned host shadow of the
     * region, writes land in it, and this copies the range to the GPU. Call it after the imm count says the
     * writes landed. A no-op (returns at once) for host memory and for device memory the NIC writes directly;
     * {@link #isStaged()} tells which.
     *
     * @throws InvalidRequestException    for a range outside the region
     * @throws ClosedException            when the region is closed
     * @throws TransferTimeoutException   when the copy did not finish in time
     */
    default void flush(long offset, long length, java.time.Duration timeout) {
    }

    /** Whether peers' writes land in a host shadow that {@link #flush} copies to the region's GPU memory. */
    default boolean isStaged() {
        return false;
    }

    /** Whether the region is still registered. */
    boolean isOpen();

    /** Deregisters on every NIC. Idempotent. */
    @Override
    void close();
}
