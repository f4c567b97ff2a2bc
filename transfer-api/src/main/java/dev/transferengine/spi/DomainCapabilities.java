package dev.transferengine.spi;

/**
 * What a domain can do.
 *
 * @param maxMessageBytes     the largest single WRITE or SEND; the engine splits larger writes
 * @param maxImmWrites        true when WRITE with remote immediate data is supported
 * @param hostMemoryOnly      true when device (GPU) memory cannot be registered
 * @param linkSpeedBitsPerSec link speed, 0 when unknown
 */
public record DomainCapabilities(long maxMessageBytes, boolean maxImmWrites, boolean hostMemoryOnly,
                                 long linkSpeedBitsPerSec) {
}
