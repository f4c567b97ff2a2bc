package dev.transferengine.core;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.core.loopback.LoopbackProvider;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.spi.TransportProvider;

import java.lang.foreign.MemorySegment;
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

    private record Domain(ProviderDomain inner) implements ProviderDomain {
        @Override
        public DomainAddress address() {
            return inner.address();
        }

        @Override
        public DomainCapabilities capabilities() {
            return inner.capabilities();
        }

        @Override
        public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
            return inner.register(segment, remoteWrite);
        }

        @Override
        public void deregister(RegisteredMemory memory) {
            inner.deregister(memory);
        }

        @Override
        public long resolvePeer(DomainAddress peer) {
            return inner.resolvePeer(peer);
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
        }

        @Override
        public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
            return inner.postSend(peer, src, address, length, context);
        }

        @Override
        public int postReceive(RegisteredMemory dst, long address, long length, long context) {
            return inner.postReceive(dst, address, length, context);
        }

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            if (FAIL) {
                throw new IllegalStateException("injected: completion queue broken");
            }
            return inner.poll(sink, maxEntries);
        }

        @Override
        public void setWakeup(Runnable wakeup) {
            inner.setWakeup(wakeup);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
