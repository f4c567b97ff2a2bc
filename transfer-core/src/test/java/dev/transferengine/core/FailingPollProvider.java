package dev.transferengine.core;

import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.ProviderDomain;


/**
 * A test provider ("failing-poll"): loopback, except that {@code poll} throws once {@link #FAIL} is set, the
 * way a provider reports a broken completion queue. Proves a dead worker fails its transfers and makes later
 * calls fail fast instead of hanging.
 */
public final class FailingPollProvider extends LoopbackWrappingProvider {
    static volatile boolean FAIL;

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
        public int poll(CompletionSink sink, int maxEntries) {
            if (FAIL) {
                throw new IllegalStateException("injected: completion queue broken");
            }
            return inner.poll(sink, maxEntries);
        }
    }
}
