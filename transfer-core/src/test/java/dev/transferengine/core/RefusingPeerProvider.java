package dev.transferengine.core;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test provider ("refusing-peer"): loopback, except that writes and sends to the peer at {@link #refused}
 * answer {@link ProviderDomain#RETRY_PEER}, the way libfabric answers while it sorts out a dropped connection and
 * verbs while a queue pair reconnects. Proves one such peer does not hold the others' writes.
 */
public final class RefusingPeerProvider extends LoopbackWrappingProvider {
    /** The peer whose posts are refused; null: none. */
    static volatile DomainAddress refused;

    @Override
    public String name() {
        return "refusing-peer";
    }

    @Override
    ProviderDomain wrap(ProviderDomain loopbackDomain) {
        return new Domain(loopbackDomain);
    }

    private static final class Domain extends ForwardingDomain {
        private final Map<Long, DomainAddress> addresses = new ConcurrentHashMap<>();

        Domain(ProviderDomain inner) {
            super(inner);
        }

        @Override
        public long resolvePeer(DomainAddress peer) {
            long handle = inner.resolvePeer(peer);
            addresses.put(handle, peer);
            return handle;
        }

        private boolean refuses(long peer) {
            DomainAddress r = refused;
            return r != null && r.equals(addresses.get(peer));
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            if (refuses(peer)) {
                return RETRY_PEER;
            }
            return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
        }

        @Override
        public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
            if (refuses(peer)) {
                return RETRY_PEER;
            }
            return inner.postSend(peer, src, address, length, context);
        }
    }
}
