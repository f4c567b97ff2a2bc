package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.Device;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * A registration of one memory range (a host segment, or device memory) on every NIC of one group. The
 * per-NIC {@link RegisteredMemory} array is indexed by NIC index, the same index that selects the domain and
 * the remote descriptor entry. Created and deregistered on the owning worker's thread; {@link #isOpen()} is
 * read by any thread.
 */
final class Region implements MemoryRegion {
    private final DefaultTransferEngine engine;
    private final int group;
    private final Device device;
    /** The user's segment for host memory; a zero-length segment at the device address for device memory. */
    private final MemorySegment segment;
    private final long address;
    private final long lengthBytes;
    private final Access access;
    private final RegisteredMemory[] perNic;
    private final RemoteRegion descriptor;
    private volatile boolean open = true;
    /** The host shadow peers write into when the NICs cannot write this GPU memory; null otherwise. */
    private volatile StagedTarget stagedTarget;

    Region(DefaultTransferEngine engine, int group, Device device, MemorySegment segment, long address,
           long lengthBytes, Access access, RegisteredMemory[] perNic, RemoteRegion descriptor) {
        this.engine = engine;
        this.group = group;
        this.device = device;
        this.segment = segment;
        this.address = address;
        this.lengthBytes = lengthBytes;
        this.access = access;
        this.perNic = perNic;
        this.descriptor = descriptor;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public Device device() {
        return device;
    }

    boolean isDevice() {
        return device.kind() == Device.Kind.CUDA;
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
    public int group() {
        return group;
    }

    @Override
    public Access access() {
        return access;
    }

    @Override
    public RemoteRegion descriptor() {
        if (descriptor == null) {
            throw new InvalidRequestException("region was registered with Access.LOCAL and has no remote descriptor");
        }
        return descriptor;
    }

    @Override
    public boolean isOpen() {
        // Device memory has no arena: the caller keeps it allocated while registered (documented).
        return open && (isDevice() || segment.scope().isAlive());
    }

    void stagedTarget(StagedTarget staged) {
        this.stagedTarget = staged;
    }

    StagedTarget stagedTarget() {
        return stagedTarget;
    }

    @Override
    public boolean isStaged() {
        return stagedTarget != null;
    }

    @Override
    public void flush(long offset, long length, java.time.Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidRequestException("flush needs a timeout >= 0, got " + timeout);
        }
        RequestValidator.inRange(offset, length, lengthBytes, "flush");
        if (!isOpen()) {
            throw new dev.transferengine.api.ClosedException("region is closed");
        }
        StagedTarget staged = stagedTarget;
        if (staged != null) {
            staged.flush(offset, length, timeout);
        }
    }

    /** The same-host GPU share of the descriptor, or null. */
    RemoteRegion.DeviceShare sharedDescriptor() {
        return descriptor == null ? null : descriptor.deviceShare();
    }

    DefaultTransferEngine engine() {
        return engine;
    }

    RegisteredMemory nic(int index) {
        return perNic[index];
    }

    RegisteredMemory[] perNic() {
        return perNic;
    }

    /** Marks closed; returns true for the first caller only. */
    boolean markClosed() {
        synchronized (this) {
            if (!open) {
                return false;
            }
            open = false;
            return true;
        }
    }

    @Override
    public void close() {
        engine.unregister(this);
    }

    @Override
    public String toString() {
        return "MemoryRegion[group=" + group + ", " + (isDevice() ? "cuda:" + device.index() + ", " : "") + "address=0x"
                + Long.toHexString(address) + ", length=" + lengthBytes + ", " + access + (open ? "" : ", closed") + "]";
    }
}
