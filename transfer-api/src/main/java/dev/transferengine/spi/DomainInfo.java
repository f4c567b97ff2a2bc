package dev.transferengine.spi;

/**
 * A domain (NIC) a fabric can open.
 *
 * @param name                 provider name of the NIC ("rxe0", "lo", "shm", "lo3")
 * @param linkSpeedBitsPerSec  link speed, 0 when unknown
 * @param description          a free-form line for logs and the bench tool's header
 */
public record DomainInfo(String name, long linkSpeedBitsPerSec, String description) {
}
