package dev.transferengine.cuda;

/**
 * What the driver knows about an address ({@code cuPointerGetAttributes}). For memory CUDA does not know
 * (plain host memory, freed memory) {@link #memoryType()} is {@link MemoryType#UNKNOWN} and the other fields
 * are zero. Immutable.
 *
 * @param address     the address asked about
 * @param memoryType  where the memory lives
 * @param ordinal     the device it was allocated or registered on; -1 when unknown
 * @param managed     whether it is managed (unified) memory from {@code cuMemAllocManaged}
 * @param rangeStart  first byte of the allocation containing {@code address}; 0 when unknown
 * @param rangeBytes  size of that allocation; 0 when unknown
 */
public record PointerInfo(long address, MemoryType memoryType, int ordinal, boolean managed, long rangeStart,
                          long rangeBytes) {

    /** {@code CUmemorytype}, plus {@link #UNKNOWN} for memory the driver does not know. */
    public enum MemoryType {
        /** Not CUDA memory: plain host memory, freed memory, or an address never allocated. */
        UNKNOWN,
        /** Page-locked host memory from {@code cuMemHostAlloc} or {@code cuMemHostRegister}. */
        HOST,
        /** Device memory. */
        DEVICE,
        /** A CUDA array. */
        ARRAY,
        /** Unified memory. */
        UNIFIED;

        /** The enum for a {@code CUmemorytype} value (0 and unknown values map to {@link #UNKNOWN}). */
        public static MemoryType of(int cuMemoryType) {
            return switch (cuMemoryType) {
                case 1 -> HOST;
                case 2 -> DEVICE;
                case 3 -> ARRAY;
                case 4 -> UNIFIED;
                default -> UNKNOWN;
            };
        }
    }

    /** Whether the address lies in device memory that is not managed (what the engine can register). */
    public boolean isPlainDeviceMemory() {
        return memoryType == MemoryType.DEVICE && !managed;
    }

    /** One past the last byte of the containing allocation. */
    public long rangeEnd() {
        return rangeStart + rangeBytes;
    }
}
