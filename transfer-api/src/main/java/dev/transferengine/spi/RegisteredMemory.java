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
}
