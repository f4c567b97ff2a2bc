package dev.transferengine.efa.internal;

import dev.transferengine.api.ProviderUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The fi_info list that {@code fi_getinfo} returned for our hints; frees it on close. Not thread-safe: owned
 * by one {@link LibfabricFabric}.
 *
 * <p>Hints: RDM endpoints; caps MSG, RMA, WRITE, REMOTE_WRITE, SEND, RECV (plus HMEM when the provider
 * offers it); mode bits we can honour (FI_CONTEXT, FI_CONTEXT2, FI_RX_CQ_DATA); mr_mode the EFA set
 * (LOCAL, VIRT_ADDR, ALLOCATED, PROV_KEY, plus HMEM with HMEM); FI_THREAD_DOMAIN since each domain has one
 * owner thread. The hints come from {@code fi_dupinfo(NULL)} and their strings from {@code strdup}: fi_freeinfo
 * frees them with free().
 */
final class InfoList implements AutoCloseable {
    static final long CAPS = FiConst.Cap.FI_MSG | FiConst.Cap.FI_RMA | FiConst.Cap.FI_WRITE
            | FiConst.Cap.FI_REMOTE_WRITE | FiConst.Cap.FI_SEND | FiConst.Cap.FI_RECV;
    static final long MODES_WE_HONOUR = FiConst.Mode.FI_CONTEXT | FiConst.Mode.FI_CONTEXT2 | FiConst.Mode.FI_RX_CQ_DATA;
    static final int MR_MODE = FiConst.MrMode.FI_MR_LOCAL | FiConst.MrMode.FI_MR_VIRT_ADDR
            | FiConst.MrMode.FI_MR_ALLOCATED | FiConst.MrMode.FI_MR_PROV_KEY;

    private final LibfabricLibrary library;
    private final MemorySegment head;
    private final List<FiInfo> entries;
    private boolean closed;

    private InfoList(LibfabricLibrary library, MemorySegment head, List<FiInfo> entries) {
        this.library = library;
        this.head = head;
        this.entries = entries;
    }

    /**
     * Runs fi_getinfo, first asking for FI_HMEM when {@code askForHmem} and then, if nothing matches, without it.
     *
     * @param node a node to bind to (with FI_SOURCE), e.g. "127.0.0.1" to keep tcp on loopback; or null
     * @throws ProviderUnavailableException when no entry matches, with fi_getinfo's error text
     */
    static InfoList query(LibfabricLibrary library, String provider, String node, boolean askForHmem) {
        int rc = 0;
        for (boolean hmem : askForHmem ? new boolean[] {true, false} : new boolean[] {false}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment hints = library.dupinfo(MemorySegment.NULL);
                if (hints.address() == 0) {
                    throw new OutOfMemoryError("fi_dupinfo(NULL)");
                }
                try {
                    fillHints(hints, provider, hmem);
                    MemorySegment out = arena.allocate(ADDRESS);
                    MemorySegment nodeString = node == null ? MemorySegment.NULL : arena.allocateFrom(node);
                    long flags = node == null ? 0 : FiConst.Cap.FI_SOURCE;
                    rc = library.getinfo(FiConst.Version.API, nodeString, flags, hints, out);
                    if (rc == 0) {
                        MemorySegment head = out.get(ADDRESS, 0);
                        return new InfoList(library, head, walk(head));
                    }
                } finally {
                    library.freeinfo(hints);
                }
            }
        }
        throw new ProviderUnavailableException("libfabric has no RDM endpoint with RMA write and remote CQ data for "
                + "provider '" + provider + "'" + (node == null ? "" : " on node " + node) + ": fi_getinfo returned "
                + rc + " (" + library.strerror(-rc) + "); check `fi_info -p '" + provider + "'`", null);
    }

    private static void fillHints(MemorySegment hintsPointer, String provider, boolean hmem) {
        MemorySegment hints = hintsPointer.reinterpret(FiLayouts.FI_INFO.byteSize());
        hints.set(JAVA_LONG, FiLayouts.INFO_CAPS, CAPS | (hmem ? FiConst.Cap.FI_HMEM : 0));
        hints.set(JAVA_LONG, FiLayouts.INFO_MODE, MODES_WE_HONOUR);
        MemorySegment ep = Native.view(hints.get(JAVA_LONG, FiLayouts.INFO_EP_ATTR), FiLayouts.FI_EP_ATTR.byteSize());
        ep.set(JAVA_INT, FiLayouts.EP_ATTR_TYPE, FiConst.Enum.FI_EP_RDM);
        MemorySegment domain = Native.view(hints.get(JAVA_LONG, FiLayouts.INFO_DOMAIN_ATTR),
                FiLayouts.FI_DOMAIN_ATTR.byteSize());
        domain.set(JAVA_INT, FiLayouts.DOMAIN_ATTR_MR_MODE, MR_MODE | (hmem ? FiConst.MrMode.FI_MR_HMEM : 0));
        domain.set(JAVA_INT, FiLayouts.DOMAIN_ATTR_THREADING, FiConst.Enum.FI_THREAD_DOMAIN);
        MemorySegment fabric = Native.view(hints.get(JAVA_LONG, FiLayouts.INFO_FABRIC_ATTR),
                FiLayouts.FI_FABRIC_ATTR.byteSize());
        fabric.set(JAVA_LONG, FiLayouts.FABRIC_ATTR_PROV_NAME, Libc.strdup(provider).address());
    }

    private static List<FiInfo> walk(MemorySegment head) {
        List<FiInfo> list = new ArrayList<>();
        for (long p = head.address(); p != 0; p = Native.view(p, FiLayouts.FI_INFO.byteSize())
                .get(JAVA_LONG, FiLayouts.INFO_NEXT)) {
            list.add(FiInfo.read(p));
        }
        return List.copyOf(list);
    }

    List<FiInfo> entries() {
        return entries;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            library.freeinfo(head);
        }
    }
}
