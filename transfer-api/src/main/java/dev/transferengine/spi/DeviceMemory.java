package dev.transferengine.spi;

/**
 * A range of device memory the engine asks a provider to register ({@link ProviderDomain#registerDevice}).
 * The engine has already checked it with {@link DeviceBackend#checkRange}.
 *
 * @param address     the device pointer (unified virtual address)
 * @param lengthBytes the length
 * @param ordinal     the CUDA device ordinal
 * @param allocation  the allocation the range lies in (dma-buf exports need page-aligned ranges)
 * @param backend     the backend that owns the device (for dma-buf export)
 */
public record DeviceMemory(long address, long lengthBytes, int ordinal, DeviceBackend.DeviceAllocation allocation,
                           DeviceBackend backend) {
}
