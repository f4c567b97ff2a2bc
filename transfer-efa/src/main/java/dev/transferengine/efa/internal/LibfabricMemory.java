package dev.transferengine.efa.internal;

import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * One registration on one domain: host memory ({@code fi_mr_reg}) or device memory ({@code fi_mr_regattr} with
 * {@code FI_HMEM_CUDA}). Owned by the {@link MemoryRegistrations} that made it; {@link #isLive()} turns false when
 * it is deregistered. Confined to the domain's owner thread, except the immutable accessors.
 *
 * <p>A device registration's address is a device pointer: nothing in this module may read or write it from Java
 * ({@link #isDevice()} guards the one place that copies into registered memory, the staged receives). It has no
 * arena, so the freed-memory check ({@link #memoryAlive()}) does not apply to it.
 */
final class LibfabricMemory implements RegisteredMemory {
    private final MemoryRegistrations owner;
    private final long address;
    private final long lengthBytes;
    private final long remoteKey;
    private final long remoteBase;
    private final MemorySegment mr;
    /**
     * The registered memory's lifetime. Held so the domain can see that the owner freed the memory while it was
     * still registered; holding it also keeps an automatic arena's memory from being freed while registered.
     */
    private final MemorySegment.Scope memoryScope;
    /** The CUDA ordinal of a device registration, -1 for host memory. */
    private final int deviceOrdinal;
    /** {@code fi_mr_desc(mr)}: the local descriptor passed with every post that uses this memory. */
    private final long descriptor;
    private boolean live = true;

    LibfabricMemory(MemoryRegistrations owner, MemorySegment.Scope memoryScope, long address, long lengthBytes,
                    long remoteKey, long remoteBase, MemorySegment mr, long descriptor) {
        this(owner, memoryScope, -1, address, lengthBytes, remoteKey, remoteBase, mr, descriptor);
    }

    /** {@code memoryScope} null and {@code deviceOrdinal >= 0} for device memory. */
    LibfabricMemory(MemoryRegistrations owner, MemorySegment.Scope memoryScope, int deviceOrdinal, long address,
                    long lengthBytes, long remoteKey, long remoteBase, MemorySegment mr, long descriptor) {
        this.owner = owner;
        this.memoryScope = memoryScope;
        this.deviceOrdinal = deviceOrdinal;
        this.address = address;
        this.lengthBytes = lengthBytes;
        this.remoteKey = remoteKey;
        this.remoteBase = remoteBase;
        this.mr = mr;
        this.descriptor = descriptor;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long lengthBytes() {
        return lengthBytes;
    }

    @Override
    public long remoteKey() {
        return remoteKey;
    }

    @Override
    public long remoteBase() {
        return remoteBase;
    }

    long descriptor() {
        return descriptor;
    }

    MemorySegment mr() {
        return mr;
    }

    MemoryRegistrations owner() {
        return owner;
    }

    /**
     * False once the registered host memory was freed (its arena closed), registered or not. Always true for device
     * memory: it has no arena; the device backend owns the allocation and the engine deregisters before freeing it.
     */
    boolean memoryAlive() {
        return memoryScope == null || memoryScope.isAlive();
    }

    /** Whether this is a device (GPU) registration, whose address must never be dereferenced on the host. */
    boolean isDevice() {
        return deviceOrdinal >= 0;
    }

    int deviceOrdinal() {
        return deviceOrdinal;
    }

    boolean isLive() {
        return live;
    }

    void markDead() {
        live = false;
    }

    @Override
    public String toString() {
        return "LibfabricMemory[" + (deviceOrdinal >= 0 ? "cuda:" + deviceOrdinal + " " : "") + "0x"
                + Long.toHexString(address) + "+" + lengthBytes + " key=" + remoteKey
                + " base=0x" + Long.toHexString(remoteBase) + (live ? "" : " deregistered") + "]";
    }
}
