package dev.transferengine.verbs.internal;

import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * One memory registration ({@code ibv_mr}) of one {@link VerbsDomain}: virtual addressing, so
 * {@link #remoteBase()} is the address itself. Mutated (deregistered) only on the domain's worker thread.
 */
final class VerbsMemory implements RegisteredMemory {
    final VerbsDomain owner;
    final MemorySegment mr;
    final int lkey;
    private final int rkey;
    private final long address;
    private final long length;
    /** How device memory was registered; null for host memory. */
    final DeviceRegistration.Path devicePath;
    boolean deregistered;

    VerbsMemory(VerbsDomain owner, MemorySegment mr, int lkey, int rkey, long address, long length,
                DeviceRegistration.Path devicePath) {
        this.owner = owner;
        this.devicePath = devicePath;
        this.mr = mr;
        this.lkey = lkey;
        this.rkey = rkey;
        this.address = address;
        this.length = length;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long lengthBytes() {
        return length;
    }

    @Override
    public long remoteKey() {
        return Integer.toUnsignedLong(rkey);
    }

    @Override
    public long remoteBase() {
        return address;
    }

    @Override
    public String toString() {
        return "verbs MR [0x" + Long.toHexString(address) + ", +" + length + ") rkey 0x" + Integer.toHexString(rkey)
                + (devicePath == null ? "" : " (device memory, " + devicePath.text + ")");
    }
}
