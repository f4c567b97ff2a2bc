package dev.transferengine.efa.internal;

import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * One {@code fi_mr_reg} registration on one domain. Owned by the {@link MemoryRegistrations} that made
 * it; {@link #isLive()} turns false when it is deregistered. Confined to the domain's owner thread, except the
 * immutable accessors.
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
    /** {@code fi_mr_desc(mr)}: the local descriptor passed with every post that uses this memory. */
    private final long descriptor;
    private boolean live = true;

    LibfabricMemory(MemoryRegistrations owner, MemorySegment.Scope memoryScope, long address, long lengthBytes,
                    long remoteKey, long remoteBase, MemorySegment mr, long descriptor) {
        this.owner = owner;
        this.memoryScope = memoryScope;
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

    /** False once the registered memory was freed (its arena closed), registered or not. */
    boolean memoryAlive() {
        return memoryScope.isAlive();
    }

    boolean isLive() {
        return live;
    }

    void markDead() {
        live = false;
    }

    /** True when {@code [start, start + length)} lies inside this registration (overflow-safe). */
    boolean covers(long start, long length) {
        return length >= 0 && start >= address && start - address <= lengthBytes - length;
    }

    @Override
    public String toString() {
        return "LibfabricMemory[0x" + Long.toHexString(address) + "+" + lengthBytes + " key=" + remoteKey
                + " base=0x" + Long.toHexString(remoteBase) + (live ? "" : " deregistered") + "]";
    }
}
