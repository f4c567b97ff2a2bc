package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * What one test works with: engine A (the sender, {@code nicsA} NICs) and engine B (the receiver,
 * {@code nicsB} NICs) in this process, an optional third engine C for multi-peer requests, an arena
 * for test memory, and a seeded random source. Not thread-safe; owned by one test.
 * {@link #close()} closes the engines before the arena, so no provider can touch freed test memory.
 */
final class ConformanceFixture implements AutoCloseable {
    final TransferEngine a;
    final TransferEngine b;
    final int nicsA;
    final int nicsB;
    final Random random;
    final long seed;
    final Arena arena = Arena.ofShared();

    private final IntFunction<TransferEngine.Builder> builders;
    private final String name;
    private final List<TransferEngine> engines = new ArrayList<>();
    private TransferEngine c;
    private int buffers;

    ConformanceFixture(IntFunction<TransferEngine.Builder> builders, String name, int nicsA, int nicsB, long seed) {
        this.builders = builders;
        this.name = name;
        this.nicsA = nicsA;
        this.nicsB = nicsB;
        this.seed = seed;
        this.random = new Random(seed);
        try {
            this.a = build("A", nicsA);
            this.b = build("B", nicsB);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private TransferEngine build(String role, int nics) {
        TransferEngine e = builders.apply(nics).name(name + "-" + role).build();
        engines.add(e);
        return e;
    }

    /** A third engine, with B's NIC count, built on first use. */
    TransferEngine c() {
        if (c == null) {
            c = build("C", nicsB);
        }
        return c;
    }

    /** The prefix of every engine name of this fixture (and so, where engines name threads, of theirs). */
    String name() {
        return name;
    }

    GuardedBuffer buffer(int bodyBytes) {
        return new GuardedBuffer("buffer#" + (buffers++) + "[seed " + seed + "]", arena, bodyBytes, random);
    }

    MemoryRegion register(TransferEngine engine, GuardedBuffer buffer, Access access) {
        return engine.register(buffer.body(), access);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (TransferEngine e : engines) {
            try {
                e.close();
            } catch (RuntimeException ex) {
                first = first == null ? ex : first;
            }
        }
        arena.close();
        if (first != null) {
            throw first;
        }
    }
}
