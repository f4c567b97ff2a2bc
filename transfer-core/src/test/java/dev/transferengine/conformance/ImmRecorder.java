package dev.transferengine.conformance;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/** An {@code onImm} handler that counts the imm events it receives per value. */
final class ImmRecorder implements IntConsumer {
    private final ConcurrentHashMap<Integer, AtomicLong> counts = new ConcurrentHashMap<>();

    @Override
    public void accept(int imm) {
        counts.computeIfAbsent(imm, k -> new AtomicLong()).incrementAndGet();
    }

    long count(int imm) {
        AtomicLong c = counts.get(imm);
        return c == null ? 0 : c.get();
    }

    /** Waits until at least {@code n} events of {@code imm} arrived. */
    void awaitAtLeast(int imm, long n) {
        Waits.until(() -> count(imm) >= n, () -> n + " imm events of 0x" + Integer.toHexString(imm)
                + " (have " + count(imm) + ")");
    }
}
