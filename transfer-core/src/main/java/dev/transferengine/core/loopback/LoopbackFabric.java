package dev.transferengine.core.loopback;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;

import java.util.ArrayList;
import java.util.List;

/**
 * An opened loopback provider: {@code domainsWanted} virtual NICs named {@code lo0..loN-1}. Each
 * {@link #openDomain} call creates an independent domain with a fresh address, even for the same NIC.
 * Thread-safe.
 */
final class LoopbackFabric implements ProviderFabric {
    /**
     * Unknown (0): a loopback copy runs at memory bandwidth, and a nominal speed made benchmarks print nonsense such
     * as 286% of link (issue 10); tools leave "% of link" out when the speed is 0.
     */
    static final long LINK_SPEED_BITS_PER_SEC = 0;

    private final LoopbackSettings options;
    private final List<DomainInfo> domains;
    private final List<LoopbackDomain> opened = new ArrayList<>();
    private boolean closed;

    LoopbackFabric(LoopbackSettings options, int domainCount) {
        this.options = options;
        List<DomainInfo> infos = new ArrayList<>(domainCount);
        for (int i = 0; i < domainCount; i++) {
            infos.add(new DomainInfo("lo" + i, LINK_SPEED_BITS_PER_SEC,
                    "in-process loopback NIC " + i + " (nominal 100 Gbit/s; copies run at memory speed)"));
        }
        this.domains = List.copyOf(infos);
    }

    @Override
    public List<DomainInfo> domains() {
        return domains;
    }

    @Override
    public synchronized ProviderDomain openDomain(DomainInfo info) {
        if (closed) {
            throw new ClosedException("loopback fabric is closed");
        }
        if (!domains.contains(info)) {
            throw new InvalidRequestException("not a domain of this loopback fabric: " + info + "; it has "
                    + domains.stream().map(DomainInfo::name).toList());
        }
        // A distinct, reproducible reorder stream per domain, in the order domains are opened.
        LoopbackDomain domain = LoopbackDomain.open(info, options, options.seed() + opened.size());
        opened.add(domain);
        return domain;
    }

    /**
     * Closes the domains the engine left open (normally none: it closes them first, on their workers,
     * which no longer run at this point). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LoopbackDomain domain : opened) {
            domain.close();
        }
        opened.clear();
    }
}
