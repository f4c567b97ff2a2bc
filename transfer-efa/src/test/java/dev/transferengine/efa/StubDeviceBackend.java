package dev.transferengine.efa;

import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.spi.DeviceMemory;

import java.lang.foreign.MemorySegment;

/**
 * A device backend that does nothing: the provider's registerDevice never calls its backend (only dma-buf
 * providers would), so tests label any address as "device memory of ordinal N" with it. Stateless.
 */
final class StubDeviceBackend implements DeviceBackend {
    static final StubDeviceBackend INSTANCE = new StubDeviceBackend();

    /** {@code [address, address + length)} labelled as memory of CUDA device {@code ordinal}. */
    static DeviceMemory label(long address, long length, int ordinal) {
        return new DeviceMemory(address, length, ordinal, new DeviceAllocation(ordinal, address, length), INSTANCE);
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
        throw new UnsupportedOperationException("stub");
    }
}
