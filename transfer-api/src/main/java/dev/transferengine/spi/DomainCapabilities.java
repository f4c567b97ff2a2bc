package dev.transferengine.spi;

/**
 * What a domain can do.
 *
 * @param maxMessageBytes     the largest single WRITE or SEND; the engine rejects larger writes
 *                            (splitting one would break the one-imm-per-write accounting)
 * @param remoteImm           true when WRITE with remote immediate data is supported
 * @param hostMemoryOnly      true when device (GPU) memory cannot be registered with this domain (the engine
 *                            then stages device memory through pinned host buffers); false when
 *                            {@link ProviderDomain#registerDevice} may be tried
 * @param linkSpeedBitsPerSec link speed, 0 when unknown
 */
public record DomainCapabilities(long maxMessageBytes, boolean remoteImm, boolean hostMemoryOnly,
                                 long linkSpeedBitsPerSec) {
}
