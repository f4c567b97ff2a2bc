package dev.transferengine.spi;

import java.util.Map;

/**
 * A pluggable transport (loopback, libfabric, verbs), found with {@link java.util.ServiceLoader}.
 * Implementations are stateless factories; {@link #availability()} is probed once and cached by them.
 */
public interface TransportProvider {

    /** The name users pass to {@code TransferEngine.builder().provider(name)}. */
    String name();

    /** Other names accepted for this provider (e.g. "tcp", "shm", "efa" for libfabric). */
    default java.util.Set<String> aliases() {
        return java.util.Set.of();
    }

    /** Options implied by an alias, e.g. alias "shm" implies {@code libfabric.provider=shm}. */
    default Map<String, String> aliasOptions(String alias) {
        return Map.of();
    }

    /** Whether this provider can run here, and why not. Never throws. */
    Availability availability();

    /**
     * Opens the provider's fabric.
     *
     * @param options        provider options from the builder (keys prefixed by the provider name)
     * @param domainsWanted  how many domains the engine will open in total (a hint: loopback creates
     *                       that many virtual NICs; libfabric may open several endpoints per NIC)
     */
    ProviderFabric open(Map<String, String> options, int domainsWanted);
}
