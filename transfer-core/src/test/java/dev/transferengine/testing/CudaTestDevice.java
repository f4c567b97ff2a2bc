package dev.transferengine.testing;

import dev.transferengine.cuda.CudaDeviceBackend;
import dev.transferengine.cuda.CudaDeviceMemory;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A real GPU for the device-memory suites ({@code ./te gpu-test}): the CUDA backend and driver allocations. */
public final class CudaTestDevice implements TestDevice.Allocator {
    private final Map<Long, CudaDeviceMemory> allocations = new ConcurrentHashMap<>();

    /** Device {@code te.test.cudaDevice} (default 0) with the CUDA backend; fails when no GPU is usable. */
    public static TestDevice create() {
        int ordinal = Integer.getInteger("te.test.cudaDevice", 0);
        CudaDeviceBackend backend = new CudaDeviceBackend();
        if (!backend.availability().available()) {
            throw new IllegalStateException("the GPU suite needs a usable GPU: " + backend.availability().reason(),
                    backend.availability().cause());
        }
        return new TestDevice(backend, new CudaTestDevice(), ordinal);
    }

    @Override
    public long allocate(int ordinal, long bytes) {
        CudaDeviceMemory m = CudaDeviceMemory.allocate(ordinal, bytes);
        allocations.put(m.address(), m);
        return m.address();
    }

    @Override
    public void free(long base) {
        CudaDeviceMemory m = allocations.remove(base);
        if (m != null) {
            m.close();
        }
    }

    @Override
    public void upload(long deviceAddress, MemorySegment host) {
        CudaDeviceMemory m = owner(deviceAddress);
        m.copyFromHost(host, deviceAddress - m.address());
    }

    @Override
    public void download(long deviceAddress, MemorySegment host) {
        CudaDeviceMemory m = owner(deviceAddress);
        m.copyToHost(deviceAddress - m.address(), host);
    }

    private CudaDeviceMemory owner(long address) {
        for (CudaDeviceMemory m : allocations.values()) {
            if (address - m.address() >= 0 && address - m.address() < m.lengthBytes()) {
                return m;
            }
        }
        throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not in a test allocation");
    }
}
