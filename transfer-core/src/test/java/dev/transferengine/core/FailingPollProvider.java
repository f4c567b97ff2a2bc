package dev.transferengine.core;

import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;


/**
 * A test provider ("failing-poll"): loopback, except that {@code poll} throws once {@link #FAIL} is set and a write
 * was posted after that (so the worker holds a transfer when it dies, however quickly it polls), the way a provider
 * reports a broken completion queue. Proves a dead worker fails its transfers and makes later
 * calls fail fast instead of hanging.
 */
public final class FailingPollProvider extends LoopbackWrappingProvider {
    static volatile boolean FAIL;
    /** Set by the first write posted while {@link #FAIL} is set. */
    static volatile boolean ARMED;

    @Override
    public String name() {
        return "failing-poll";
    }

    @Override
    ProviderDomain wrap(ProviderDomain loopbackDomain) {
        return new Domain(loopbackDomain);
    }

    /** Loopback's domain, whose poll throws once {@code FAIL} is set. */
    private static final class Domain extends ForwardingDomain {
        Domain(ProviderDomain inner) {
            super(inner);
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            int rc = inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
            if (FAIL) {
                ARMED = true;
            }
            return rc;
        }

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            if (ARMED) {
                throw new IllegalStateException("injected: completion queue broken");
            }
            return inner.poll(sink, maxEntries);
        }
    }
}
