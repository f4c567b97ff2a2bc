package dev.transferengine.testing;

import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.spi.DeviceMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A device backend for tests without a GPU: labels any address range as "memory of CUDA device N" and answers
 * {@link #exportDmabuf} with what the test says (an fd, or an exception). Records every export request. Not
 * thread-safe (tests call it from one thread).
 */
public final class LabellingDeviceBackend implements DeviceBackend {
    /** What exportDmabuf does. */
    public interface Export {
        int export(long address, long lengthBytes);
    }

    /** For providers that never export (libfabric): exportDmabuf throws. */
    private static final LabellingDeviceBackend NO_EXPORT = new LabellingDeviceBackend((a, l) -> {
        throw new UnsupportedOperationException("this test backend exports nothing");
    });

    private final Export export;
    /** Every export request as {address, length}, in order. */
    public final List<long[]> exports = new ArrayList<>();

    public LabellingDeviceBackend(Export export) {
        this.export = export;
    }

    /** {@code [address, +length)} labelled as memory of device {@code ordinal}, the allocation being that range. */
    public static DeviceMemory labelled(long address, long length, int ordinal) {
        return NO_EXPORT.label(address, length, ordinal, address, length);
    }

    /** {@code [address, +length)} of device {@code ordinal}, inside the allocation {@code [base, +size)}. */
    public DeviceMemory label(long address, long length, int ordinal, long base, long size) {
        return new DeviceMemory(address, length, ordinal, new DeviceAllocation(ordinal, base, size), this);
    }

    /** {@code [address, +length)} of device 0, the allocation being exactly that range. */
    public DeviceMemory label(long address, long length) {
        return label(address, length, 0, address, length);
    }

    @Override
    public String name() {
        return "stub";
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    @Override
    public int deviceCount() {
        return 1;
    }

    @Override
    public DeviceAllocation checkRange(int ordinal, long address, long lengthBytes) {
        return new DeviceAllocation(ordinal, address, lengthBytes);
    }

    @Override
    public DeviceCopyQueue openCopyQueue(int ordinal) {
        throw new UnsupportedOperationException("stub");
    }

    @Override
    public MemorySegment allocatePinnedHost(long bytes) {
        throw new UnsupportedOperationException("stub");
    }

    @Override
    public void freePinnedHost(MemorySegment pinned) {
        throw new UnsupportedOperationException("stub");
    }

    @Override
    public int exportDmabuf(long address, long lengthBytes) {
        exports.add(new long[]{address, lengthBytes});
        return export.export(address, lengthBytes);
    }
}
