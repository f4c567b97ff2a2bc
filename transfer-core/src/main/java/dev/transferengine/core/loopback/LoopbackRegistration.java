package dev.transferengine.core.loopback;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * One registration of a loopback domain. Created and released by the owning domain's worker thread; read
 * by other domains' worker threads when they write into it, so every field they read is final or
 * volatile.
 */
final class LoopbackRegistration implements RegisteredMemory {
    /** Unstarted, never runs: only asked "could this thread touch the segment?". */
    private static final Thread SOME_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    private final LoopbackDomain owner;
    /** Null for device memory. */
    private final MemorySegment userSegment;
    /** Null for device memory, which is only ever copied by the device backend. */
    private final MemorySegment view;
    /** Non-null for device memory. */
    private final DeviceMemory device;
    private final long address;
    private final long lengthBytes;
    private final long key;
    private final boolean remoteWrite;
    /** The view of a confined segment is writable even when the segment is not: remember which it was. */
    private final boolean readOnly;
    private volatile boolean registered = true;

    /** @param view {@link #viewFromAnyThread}{@code (segment)} */
    LoopbackRegistration(LoopbackDomain owner, MemorySegment segment, MemorySegment view, long key,
                         boolean remoteWrite) {
        this.owner = owner;
        this.userSegment = segment;
        this.view = view;
        this.address = segment.address();
        this.lengthBytes = segment.byteSize();
        this.key = key;
        this.remoteWrite = remoteWrite;
        this.readOnly = segment.isReadOnly();
        this.device = null;
    }

    /** A registration of device memory: never dereferenced on the host, copied by the device backend. */
    LoopbackRegistration(LoopbackDomain owner, DeviceMemory device, long key, boolean remoteWrite) {
        this.owner = owner;
        this.userSegment = null;
        this.view = null;
        this.address = device.address();
        this.lengthBytes = device.lengthBytes();
        this.key = key;
        this.remoteWrite = remoteWrite;
        this.readOnly = false;
        this.device = device;
    }

    /** The device memory behind this registration, or null for host memory. */
    DeviceMemory device() {
        return device;
    }

    /**
     * Peers copy into this memory from their own worker threads. A shared, global or automatic segment can
     * be used as is, and keeps the JDK's use-after-free check. A confined segment cannot be touched from
     * another thread, so it gets a view of the same address without that confinement; its liveness is
     * then only checked by {@link #isAlive()} before each copy, like a NIC that trusts the registration.
     */
    @SuppressWarnings("restricted")
    static MemorySegment viewFromAnyThread(MemorySegment segment) {
        if (segment.isAccessibleBy(SOME_OTHER_THREAD)) {
            return segment;
        }
        try {
            return MemorySegment.ofAddress(segment.address()).reinterpret(segment.byteSize());
        } catch (IllegalCallerException e) {
            throw new InvalidRequestException("loopback needs native access (--enable-native-access) to share a"
                    + " segment of a confined arena with other worker threads; or register memory of a shared,"
                    + " global or automatic arena");
        }
    }

    LoopbackDomain owner() {
        return owner;
    }

    /** The registered memory, usable from any thread. */
    MemorySegment view() {
        return view;
    }

    boolean isRegistered() {
        return registered;
    }

    void markDeregistered() {
        registered = false;
    }

    /** Whether the user's arena still holds the memory. */
    boolean isAlive() {
        // Device memory has no arena: its owner keeps it allocated while registered (documented).
        return userSegment == null || userSegment.scope().isAlive();
    }

    boolean isReadOnly() {
        return readOnly;
    }

    boolean remoteWrite() {
        return remoteWrite;
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
        return key;
    }

    @Override
    public long remoteBase() {
        return address;
    }

    String describe() {
        return (device != null ? "cuda:" + device.ordinal() + " " : "") + "[0x" + Long.toHexString(address) + ", 0x" + Long.toHexString(address + lengthBytes)
                + ") under key 0x" + Long.toHexString(key);
    }

    @Override
    public String toString() {
        return "LoopbackRegistration" + describe() + (registered ? "" : " (deregistered)");
    }
}
