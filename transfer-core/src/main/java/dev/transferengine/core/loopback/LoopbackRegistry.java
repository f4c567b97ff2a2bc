package dev.transferengine.core.loopback;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process-wide directory in which loopback domains find each other by id (the "network" of the
 * loopback provider). Ids are never reused, so a stale address can never reach a newer domain.
 * Thread-safe.
 */
final class LoopbackRegistry {
    private static final ConcurrentHashMap<Long, LoopbackDomain> DOMAINS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);

    private LoopbackRegistry() {
    }

    static long newId() {
        return NEXT_ID.getAndIncrement();
    }

    static void add(long id, LoopbackDomain domain) {
        DOMAINS.put(id, domain);
    }

    static void remove(long id, LoopbackDomain domain) {
        DOMAINS.remove(id, domain);
    }

    /** The open domain with {@code id}, or null when it was closed or never existed. */
    static LoopbackDomain find(long id) {
        return DOMAINS.get(id);
    }
}
