package dev.transferengine.spi;

import java.util.List;

/**
 * An opened provider: lists its domains and opens them. Owned by the engine; closed after every domain
 * it opened is closed.
 */
public interface ProviderFabric extends AutoCloseable {

    /** The domains (NICs) this fabric offers, in a stable order. */
    List<DomainInfo> domains();

    /**
     * Opens one domain: an endpoint with its own completion queue on NIC {@code info}. A provider may be
     * asked to open the same NIC more than once (several endpoints on one NIC): each call returns an
     * independent domain with its own address.
     *
     * @throws dev.transferengine.api.TransferException with the provider's error text on failure
     */
    ProviderDomain openDomain(DomainInfo info);

    @Override
    void close();
}
