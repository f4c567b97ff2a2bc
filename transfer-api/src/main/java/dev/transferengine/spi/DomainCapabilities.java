package dev.transferengine.spi;

/**
 * What a domain can do.
 *
 * @param maxMessageBytes     the largest single WRITE or SEND the domain accepts; the engine never posts a
 *                            larger one: it splits longer writes into pieces (the imm on the last piece,
 *                            posted after the others completed) and rejects longer sends and receive buffers
 * @param remoteImm           true when WRITE with remote immediate data is supported
 * @param hostMemoryOnly      true when device (GPU) memory cannot be registered with this domain (the engine
 *                            then stages device memory through pinned host buffers); false when
 *                            {@link ProviderDomain#registerDevice} may be tried
 * @param linkSpeedBitsPerSec link speed, 0 when unknown
 */
public record DomainCapabilities(long maxMessageBytes, boolean remoteImm, boolean hostMemoryOnly,
                                 long linkSpeedBitsPerSec) {
}
