package dev.transferengine.core;

import dev.transferengine.core.loopback.LoopbackProvider;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;

import java.util.List;
import java.util.Map;

/**
 * A test provider that is loopback with its domains wrapped: subclasses decide what the wrapper changes (a poll
 * that throws, a post that never returns). Always available.
 */
abstract class LoopbackWrappingProvider implements TransportProvider {
    private final LoopbackProvider loopback = new LoopbackProvider();

    /** Wraps one of loopback's domains. */
    abstract ProviderDomain wrap(ProviderDomain loopbackDomain);

    /** Called after the fabric closed. */
    void fabricClosed() {
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    @Override
    public ProviderFabric open(Map<String, String> options, int domainsWanted) {
        ProviderFabric inner = loopback.open(Map.of(), domainsWanted);
        return new ProviderFabric() {
            @Override
            public List<DomainInfo> domains() {
                return inner.domains();
            }

            @Override
            public ProviderDomain openDomain(DomainInfo info) {
                return wrap(inner.openDomain(info));
            }

            @Override
            public void close() {
                inner.close();
                fabricClosed();
            }
        };
    }
}
