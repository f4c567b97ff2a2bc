package dev.transferengine.core.loopback;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;

import java.util.Map;

/**
 * The in-process loopback transport: domains of the same JVM write into each other's registered memory
 * with {@link java.lang.foreign.MemorySegment#copy}. It is the engine's embedded default and the test
 * double for the real providers, with the same contract: manual progress, unordered delivery, bounded
 * queues, and switchable reordering, delays and injected failures (see {@link LoopbackSettings} and
 * {@code docs/loopback.md}). Always available. Stateless; thread-safe.
 */
public final class LoopbackProvider implements TransportProvider {
    public static final String NAME = "loopback";
    /** Far more virtual NICs than any machine has; a bigger request is a bug upstream. */
    static final int MAX_DOMAINS = 1024;

    public LoopbackProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    /** @param domainsWanted how many virtual NICs ({@code lo0..}) to list; at least one is listed */
    @Override
    public ProviderFabric open(Map<String, String> options, int domainsWanted) {
        if (domainsWanted > MAX_DOMAINS) {
            throw new InvalidRequestException("loopback offers at most " + MAX_DOMAINS + " domains, "
                    + domainsWanted + " wanted");
        }
        LoopbackSettings parsed = LoopbackSettings.parse(options == null ? Map.of() : options);
        return new LoopbackFabric(parsed, Math.max(1, domainsWanted));
    }
}
