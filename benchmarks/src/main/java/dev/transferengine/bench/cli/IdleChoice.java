package dev.transferengine.bench.cli;

import dev.transferengine.api.IdleStrategy;

import java.util.Locale;
import java.util.function.Supplier;

/** The worker idle strategies a benchmark can pick by name: {@code backoff} (the engine default), {@code spin}, {@code yield}. */
public enum IdleChoice {
    BACKOFF(IdleStrategy::backoff),
    SPIN(IdleStrategy::busySpin),
    YIELD(IdleStrategy::yielding);

    private final Supplier<IdleStrategy> factory;

    IdleChoice(Supplier<IdleStrategy> factory) {
        this.factory = factory;
    }

    /** What {@code TransferEngine.Builder.idleStrategy} takes. */
    public Supplier<IdleStrategy> factory() {
        return factory;
    }

    /** The choice named {@code name}, case-insensitively. */
    public static IdleChoice named(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("idle strategy must be backoff, spin or yield, got '" + name + "'", e);
        }
    }
}
