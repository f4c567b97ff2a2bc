package dev.transferengine.core;

import dev.transferengine.core.loopback.LoopbackProvider;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;

import java.util.List;
import java.util.Map;

/**
 * A test provider ("failing-poll"): loopback, except that {@code poll} throws once {@link #FAIL} is set, the
 * way a provider reports a broken completion queue. Proves a dead worker fails its transfers and makes later
 * calls fail fast instead of hanging.
 */
public final class FailingPollProvider implements TransportProvider {
    static volatile boolean FAIL;

    private final LoopbackProvider loopback = new LoopbackProvider();

    @Override
    public String name() {
        return "failing-poll";
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
                return new Domain(inner.openDomain(info));
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    /** Loopback's domain, whose poll throws once {@code FAIL} is set. */
    private static final class Domain extends ForwardingDomain {
        Domain(ProviderDomain inner) {
            super(inner);
        }

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            if (FAIL) {
                throw new IllegalStateException("injected: completion queue broken");
            }
            return inner.poll(sink, maxEntries);
        }
    }
}
