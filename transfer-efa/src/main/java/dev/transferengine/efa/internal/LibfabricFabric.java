package dev.transferengine.efa.internal;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The fi_info entries of one provider, one {@link DomainInfo} per distinct domain name (NIC), and the
 * fi_fabric objects opened for them on demand. Every {@link #openDomain} opens a fresh endpoint.
 *
 * <p>Thread-safe (methods synchronize); closing closes any domain still open, then the fabrics, then frees the
 * fi_info list.
 */
public final class LibfabricFabric implements ProviderFabric {
    private final LibfabricLibrary library;
    private final LibfabricSettings settings;
    private final InfoList infos;
    private final Map<DomainInfo, FiInfo> byDomain = new LinkedHashMap<>();
    private final Map<FiInfo, MemorySegment> fabrics = new HashMap<>();
    private final List<LibfabricDomain> open = new ArrayList<>();
    private boolean closed;

    public LibfabricFabric(LibfabricLibrary library, LibfabricSettings settings) {
        this.library = library;
        this.settings = settings;
        this.infos = InfoList.query(library, settings.provider(), settings.node(), settings.askForHmem());
        for (FiInfo info : infos.entries()) {
            String name = info.domainName() == null ? settings.provider() : info.domainName();
            if (byDomain.keySet().stream().noneMatch(d -> d.name().equals(name))) {
                byDomain.put(new DomainInfo(name, info.linkSpeed(), info.describe()), info);
            }
        }
    }

    @Override
    public synchronized List<DomainInfo> domains() {
        return List.copyOf(byDomain.keySet());
    }

    @Override
    public synchronized ProviderDomain openDomain(DomainInfo domain) {
        if (closed) {
            throw new ClosedException("libfabric fabric is closed");
        }
        FiInfo info = domain == null ? null : byDomain.get(domain);
        if (info == null) {
            for (Map.Entry<DomainInfo, FiInfo> e : byDomain.entrySet()) {
                if (domain != null && e.getKey().name().equals(domain.name())) {
                    info = e.getValue();
                }
            }
        }
        if (info == null) {
            throw new InvalidRequestException("no libfabric domain " + domain + "; this fabric offers " + domains());
        }
        LibfabricDomain[] self = new LibfabricDomain[1];
        LibfabricDomain d = new LibfabricDomain(library, fabricFor(info), info, settings, () -> forget(self[0]));
        self[0] = d;
        open.add(d);
        return d;
    }

    private synchronized void forget(LibfabricDomain domain) {
        open.remove(domain);
    }

    private MemorySegment fabricFor(FiInfo info) {
        MemorySegment fabric = fabrics.get(info);
        if (fabric != null) {
            return fabric;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            long attr = info.pointer().get(JAVA_LONG, FiLayouts.INFO_FABRIC_ATTR);
            int rc = SignalHandlers.preserving(SignalHandlers.AT_ENDPOINT,
                    () -> library.fabric(MemorySegment.ofAddress(attr), out));
            if (rc != 0) {
                throw FiErrors.callFailed(library, "fi_fabric", rc);
            }
            fabric = out.get(ADDRESS, 0).reinterpret(FiLayouts.FID_FABRIC.byteSize());
            fabrics.put(info, fabric);
            return fabric;
        }
    }

    @Override
    public void close() {
        List<LibfabricDomain> domains;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            domains = List.copyOf(open);
        }
        for (LibfabricDomain d : domains) {
            d.close();
        }
        List<MemorySegment> toClose;
        synchronized (this) {
            toClose = List.copyOf(fabrics.values());
            fabrics.clear();
        }
        Runnable closeNative = () -> {
            for (MemorySegment fabric : toClose) {
                FiEndpoint.closeFid(fabric);
            }
            infos.close();
        };
        if (RetiredEndpoints.applies(settings.provider())) {
            RetiredEndpoints.closeAfterEndpoints(closeNative); // the retired endpoints still use fabric and fi_info
        } else {
            closeNative.run();
        }
    }
}
