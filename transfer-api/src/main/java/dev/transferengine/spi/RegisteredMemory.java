package dev.transferengine.spi;

/**
 * A provider's registration of one memory range on one domain. Owned by the domain that created it;
 * released with {@link ProviderDomain#deregister}.
 */
public interface RegisteredMemory {
    /** Start address of the registered range. */
    long address();

    /** Length of the registered range. */
    long lengthBytes();

    /** The key peers present when writing into the range through this domain. */
    long remoteKey();

    /**
     * The value a peer adds a byte offset to, to address this range through this domain: the virtual
     * address for providers with virtual addressing, 0 for offset-addressed ones.
     */
    long remoteBase();

    /**
     * Whether {@code [start, start + length)} lies inside {@code [address(), address() + lengthBytes())}; see
     * {@link #contains(long, long, long, long)}.
     */
    default boolean contains(long start, long length) {
        return contains(address(), lengthBytes(), start, length);
    }

    /**
     * The one range check of the SPI and the engine: whether {@code [start, start + length)} lies inside
     * {@code [base, base + size)}. Addresses are unsigned 64-bit values; the arithmetic never overflows. A negative
     * {@code length} or {@code size} is never contained; {@code length} 0 is contained for {@code start} anywhere
     * in {@code [base, base + size]} (the end included). Offset-based callers pass {@code base} 0, so a negative
     * offset (a huge unsigned one) is outside.
     */
    static boolean contains(long base, long size, long start, long length) {
        // start - base wraps to a huge unsigned value when start lies below base: one comparison covers both ends.
        return length >= 0 && size >= 0 && length <= size
                && Long.compareUnsigned(start - base, size - length) <= 0;
    }
}
