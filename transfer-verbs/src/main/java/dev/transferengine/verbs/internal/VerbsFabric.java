package dev.transferengine.verbs.internal;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.verbs.internal.PortDiscovery.VerbsPort;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The verbs fabric: the active ports found at open, listed as domains. When the engine wants more domains
 * than there are ports (for example two NICs per group on a machine with one RDMA device), the ports are
 * listed again as extra endpoints named {@code <port>.<n>} ("rxe0.1"): each opens its own device context,
 * protection domain, queues and address, so it behaves like another NIC on the same wire. Thread-safe for
 * {@link #domains()}; {@link #openDomain} and {@link #close()} are synchronised.
 */
public final class VerbsFabric implements ProviderFabric {
    private final DeviceList devices;
    private final VerbsSettings options;
    private final List<DomainInfo> domains;
    private final Map<String, VerbsPort> portsByDomain = new HashMap<>();
    private final List<VerbsDomain> opened = new ArrayList<>();
    private boolean closed;

    private VerbsFabric(DeviceList devices, VerbsSettings options, List<VerbsPort> ports, int domainsWanted) {
        this.devices = devices;
        this.options = options;
        List<DomainInfo> list = new ArrayList<>();
        int total = Math.max(ports.size(), domainsWanted);
        for (int i = 0; i < total; i++) {
            VerbsPort p = ports.get(i % ports.size());
            int round = i / ports.size();
            String name = round == 0 ? p.name() : p.name() + "." + round;
            list.add(new DomainInfo(name, p.linkSpeedBitsPerSec(),
                    p.description() + (round == 0 ? "" : " (extra endpoint " + round + ")")));
            portsByDomain.put(name, p);
        }
        this.domains = List.copyOf(list);
    }

    public static VerbsFabric open(VerbsSettings options, int domainsWanted) {
        DeviceList devices = DeviceList.open();
        try {
            return new VerbsFabric(devices, options, PortDiscovery.discover(devices, options), domainsWanted);
        } catch (RuntimeException e) {
            devices.close();
            throw e;
        }
    }

    @Override
    public List<DomainInfo> domains() {
        return domains;
    }

    @Override
    public synchronized ProviderDomain openDomain(DomainInfo info) {
        if (closed) {
            throw new ClosedException("verbs fabric is closed");
        }
        VerbsPort port = info == null ? null : portsByDomain.get(info.name());
        if (port == null) {
            throw new InvalidRequestException("verbs: unknown domain " + (info == null ? null : info.name())
                    + "; this fabric offers " + domains.stream().map(DomainInfo::name).toList());
        }
        VerbsDomain d = new VerbsDomain(port, options);
        opened.add(d);
        return d;
    }

    /** Closes domains the engine left open, then frees the device list. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (VerbsDomain d : opened) {
            try {
                d.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        opened.clear();
        devices.close();
        if (first != null) {
            throw first;
        }
    }
}
