package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * A registration of one segment on every NIC of one group. The per-NIC {@link RegisteredMemory} array is
 * indexed by NIC index, the same index that selects the domain and the remote descriptor entry.
 * Created and deregistered on the owning worker's thread; {@link #isOpen()} is read by any thread.
 */
final class Region implements MemoryRegion {
    private final DefaultTransferEngine engine;
    private final int group;
    private final MemorySegment segment;
    private final Access access;
    private final RegisteredMemory[] perNic;
    private final RemoteRegion descriptor;
    private volatile boolean open = true;

    Region(DefaultTransferEngine engine, int group, MemorySegment segment, Access access, RegisteredMemory[] perNic,
           RemoteRegion descriptor) {
        this.engine = engine;
        this.group = group;
        this.segment = segment;
        this.access = access;
        this.perNic = perNic;
        this.descriptor = descriptor;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public long address() {
        return segment.address();
    }

    @Override
    public long lengthBytes() {
        return segment.byteSize();
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
        return open && segment.scope().isAlive();
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
        return "MemoryRegion[group=" + group + ", address=0x" + Long.toHexString(segment.address()) + ", length="
                + segment.byteSize() + ", " + access + (open ? "" : ", closed") + "]";
    }
}
