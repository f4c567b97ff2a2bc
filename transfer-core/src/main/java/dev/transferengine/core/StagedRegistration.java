package dev.transferengine.core;

import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.RegisteredMemory;

/**
 * Device memory that the NIC of a {@link StagingDomain} cannot register: writes from it are copied into
 * pinned host bounce buffers first. It has no key, so it can only be a write source.
 */
final class StagedRegistration implements RegisteredMemory {
    private final StagingDomain owner;
    private final DeviceMemory memory;
    private volatile boolean registered = true;

    StagedRegistration(StagingDomain owner, DeviceMemory memory) {
        this.owner = owner;
        this.memory = memory;
    }

    StagingDomain owner() {
        return owner;
    }

    boolean isRegistered() {
        return registered;
    }

    void markDeregistered() {
        registered = false;
    }

    @Override
    public long address() {
        return memory.address();
    }

    @Override
    public long lengthBytes() {
        return memory.lengthBytes();
    }

    @Override
    public long remoteKey() {
        return 0;
    }

    @Override
    public long remoteBase() {
        return 0;
    }

    @Override
    public String toString() {
        return "StagedRegistration[cuda:" + memory.ordinal() + ", 0x" + Long.toHexString(memory.address()) + ", "
                + memory.lengthBytes() + " bytes" + (registered ? "]" : ", deregistered]");
    }
}
